package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LimitMeter is the optional runtime ability to tell that a sandbox hit its
// memory limit.
type LimitMeter interface {
	// OOMKills counts the processes killed for memory so far.
	OOMKills(id string) (int, error)
}

// ThrottleMeter is the optional runtime ability to tell how often a
// sandbox's CPU quota held it back.
type ThrottleMeter interface {
	// CPUThrottling counts, since the sandbox started, the scheduler
	// periods in which it had work and those in which it used up its quota.
	CPUThrottling(id string) (periods, throttled int64, err error)
}

// ReasonLimit starts the reason of every event that says a limit was hit.
const ReasonLimit = "limit: "

// Disk use that counts as full, and as no longer full, looked at every
// diskCheckEvery checks (finding the layer's size reads the open files of
// the sandbox's processes).
const (
	diskFullShare  = 0.98
	diskClearShare = 0.90
	diskCheckEvery = 3
)

// The share of the process limit that counts as reaching it, and as no
// longer near it. The agent counts the processes every pidsCheckEvery
// checks, in the background, and must answer within pidsTimeout (it shares
// the sandbox's CPU with whatever is forking). It is asked only while the
// sandbox is busy (pidsBusyPeriods scheduler periods with work since the
// check before), or while the limit is reported hit: an idle sandbox does
// not fork, and asking hundreds of idle agents would cost more CPU than
// they use.
const (
	pidsHighShare   = 0.95
	pidsClearShare  = 0.80
	pidsCheckEvery  = 2
	pidsTimeout     = 10 * time.Second
	pidsParallel    = 16
	pidsBusyPeriods = 3
)

// The share of scheduler periods (100 ms each) in which the CPU quota ran
// out, over the last cpuWindow checks, that counts as hitting it, and as no
// longer hitting it. Fewer than cpuMinPeriods periods with work is idle.
const (
	cpuHighShare  = 0.5
	cpuClearShare = 0.25
	cpuWindow     = 3
	cpuMinPeriods = 10
)

// latch reports a level that reaches its high mark once, and again only
// after the level has dropped below its low mark: a limit held for minutes
// makes one event.
type latch struct{ on bool }

func (l *latch) update(share, high, low float64) (fired bool) {
	switch {
	case !l.on && share >= high:
		l.on = true
		return true
	case l.on && share < low:
		l.on = false
	}
	return false
}

// cpuSample is one reading of the CPU throttling counters.
type cpuSample struct{ periods, throttled int64 }

// limitState is what checkLimits last saw of one sandbox.
type limitState struct {
	oomKills   int
	diskFull   latch
	pidsHigh   latch
	throttled  latch
	cpu        [cpuWindow]cpuSample // the last readings, a ring
	cpuSamples int                  // readings taken so far
	checks     int
	last       string // the reason of the last limit event
}

// checkLimits records an event for every limit a running sandbox has hit
// since the last check: a process killed for memory, a full disk, the
// process limit nearly reached, or the CPU quota throttling the sandbox.
// A limit that stays hit is reported once, until it is clear again.
func (m *Manager) checkLimits(ctx context.Context, list []*Sandbox, seen map[string]limitState) map[string]limitState {
	next := make(map[string]limitState, len(list))
	oomMeter, hasOOM := m.rt.(LimitMeter)
	diskMeter, hasDisk := m.rt.(UsageMeter)
	cpuMeter, hasCPU := m.rt.(ThrottleMeter)
	pids := m.countAllPids(ctx, list, seen)
	for _, sb := range list {
		if sb.State != Running {
			continue
		}
		st, known := seen[sb.ID]
		var events []string
		if hasOOM {
			if n, err := oomMeter.OOMKills(sb.ID); err == nil {
				// Kills before the first look count if the sandbox started
				// just before it; older ones were reported before a restart.
				fresh := !known && m.now().Sub(sb.StartedAt) < 10*time.Second
				if (known || fresh) && n > st.oomKills {
					events = append(events, fmt.Sprintf("%smemory: %d process(es) killed, out of memory (%d MB)", ReasonLimit, n-st.oomKills, sb.MemoryMB))
				}
				st.oomKills = n
			}
		}
		st.checks++
		if hasDisk && sb.DiskMB > 0 && st.checks%diskCheckEvery == 1 {
			if used, err := m.diskUsed(sb, diskMeter); err == nil {
				share := float64(used) / float64(int64(sb.DiskMB)<<20)
				if st.diskFull.update(share, diskFullShare, diskClearShare) {
					events = append(events, fmt.Sprintf("%sdisk: the writable layer is full (%d MB)", ReasonLimit, sb.DiskMB))
				}
			}
		}
		if n, ok := pids[sb.ID]; ok {
			share := float64(n) / float64(m.cfg.Nproc)
			if st.pidsHigh.update(share, pidsHighShare, pidsClearShare) {
				// gVisor counts RLIMIT_NPROC per user of the sandbox, threads
				// included; the agent counts the sandbox's processes.
				events = append(events, fmt.Sprintf("%spids: %d processes, the limit is %d per user (threads included)", ReasonLimit, n, m.cfg.Nproc))
			}
		}
		if hasCPU {
			if periods, throttled, err := cpuMeter.CPUThrottling(sb.ID); err == nil {
				if share, ok := st.addCPU(cpuSample{periods, throttled}); ok && st.throttled.update(share, cpuHighShare, cpuClearShare) {
					events = append(events, fmt.Sprintf("%scpu: throttled in %.0f%% of periods at %s", ReasonLimit, 100*share, vcpus(sb.VCPUs)))
				}
			}
		}
		for _, why := range events {
			st.last = why
			m.log.Warn("sandbox hit a limit", "sandbox", sb.ID, "limit", strings.TrimPrefix(why, ReasonLimit))
			if err := m.store.AddEvent(ctx, sb.ID, Running, why); err != nil {
				m.log.Warn("recording a limit event", "sandbox", sb.ID, "err", err)
			}
		}
		next[sb.ID] = st
	}
	m.mu.Lock()
	for id, st := range next {
		if st.last != "" {
			m.entryLocked(id).lastLimit = st.last
		}
	}
	m.mu.Unlock()
	return next
}

// busy reports whether the sandbox had work in pidsBusyPeriods scheduler
// periods or more between the last two readings of its CPU counters, or
// whether there are no two readings to tell (no meter, or just started).
func (st *limitState) busy() bool {
	if st.cpuSamples < 2 {
		return true
	}
	last := st.cpu[(st.cpuSamples-1)%cpuWindow]
	prev := st.cpu[(st.cpuSamples-2)%cpuWindow]
	return last.periods-prev.periods >= pidsBusyPeriods || last.periods < prev.periods
}

// addCPU keeps a reading of the throttling counters and returns the share
// of periods throttled since the oldest reading kept. ok is false until
// there are two readings.
func (st *limitState) addCPU(now cpuSample) (share float64, ok bool) {
	var old cpuSample
	switch {
	case st.cpuSamples == 0:
	case st.cpuSamples < cpuWindow:
		old, ok = st.cpu[0], true
	default:
		old, ok = st.cpu[st.cpuSamples%cpuWindow], true
	}
	st.cpu[st.cpuSamples%cpuWindow] = now
	st.cpuSamples++
	periods := now.periods - old.periods
	if !ok || periods < cpuMinPeriods || now.throttled < old.throttled {
		return 0, ok // idle, or counters that restarted: not throttled
	}
	return float64(now.throttled-old.throttled) / float64(periods), true
}

func vcpus(n int) string {
	if n == 1 {
		return "1 vCPU"
	}
	return fmt.Sprintf("%d vCPUs", n)
}

// pidsCounts holds the process counts taken in the background. An agent
// that shares its CPU with a fork bomb can take seconds to answer, and the
// other checks, of every sandbox, must not wait for it.
type pidsCounts struct {
	mu      sync.Mutex
	pending map[string]bool // a count is under way
	done    map[string]int  // counts taken since the last check
	wg      sync.WaitGroup
}

// countAllPids returns the process counts taken since the last check, and
// asks the agent of every running sandbox due a look, and not still
// answering the last question, how many processes it has. A sandbox whose
// agent does not answer in pidsTimeout is left out.
func (m *Manager) countAllPids(ctx context.Context, list []*Sandbox, seen map[string]limitState) map[string]int {
	if m.cfg.Nproc <= 0 {
		return nil
	}
	p := &m.pids
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]bool{}
	}
	out := p.done
	p.done = map[string]int{}
	for _, sb := range list {
		st := seen[sb.ID]
		if sb.State != Running || p.pending[sb.ID] || len(p.pending) >= pidsParallel ||
			(st.checks+1)%pidsCheckEvery != 1 || !(st.pidsHigh.on || st.busy()) {
			continue
		}
		p.pending[sb.ID] = true
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			cctx, cancel := context.WithTimeout(ctx, pidsTimeout)
			defer cancel()
			n, err := m.countPids(cctx, sb)
			p.mu.Lock()
			defer p.mu.Unlock()
			delete(p.pending, sb.ID)
			if err == nil {
				p.done[sb.ID] = n
			}
		}()
	}
	return out
}

// agentPids counts a sandbox's processes through its agent.
func (m *Manager) agentPids(ctx context.Context, sb *Sandbox) (int, error) {
	return m.agentFor(sb).Pids(ctx)
}

// LastLimit returns the last limit a running sandbox hit since the daemon
// started, or "".
func (m *Manager) LastLimit(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[id]; e != nil {
		return e.lastLimit
	}
	return ""
}
