package sandbox

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// LimitMeter is the optional runtime ability to tell that a sandbox hit its
// memory limit.
type LimitMeter interface {
	// OOMKills counts the processes killed for memory so far.
	OOMKills(id string) (int, error)
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

// limitState is what checkLimits last saw of one sandbox.
type limitState struct {
	oomKills int
	diskFull bool
	checks   int
	last     string // the reason of the last limit event
}

// checkLimits records an event for every limit a running sandbox has hit
// since the last check: a process killed for memory, or a full disk. The
// pids limit (RLIMIT_NPROC inside gVisor: fork fails with EAGAIN) and the
// CPU quota (throttling) are enforced but not reported.
func (m *Manager) checkLimits(ctx context.Context, list []*Sandbox, seen map[string]limitState) map[string]limitState {
	next := make(map[string]limitState, len(list))
	oomMeter, hasOOM := m.rt.(LimitMeter)
	diskMeter, hasDisk := m.rt.(UsageMeter)
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
			if used, err := diskMeter.Disk(sb.ID); err == nil {
				share := float64(used) / float64(int64(sb.DiskMB)<<20)
				switch {
				case !st.diskFull && share >= diskFullShare:
					st.diskFull = true
					events = append(events, fmt.Sprintf("%sdisk: the writable layer is full (%d MB)", ReasonLimit, sb.DiskMB))
				case st.diskFull && share < diskClearShare:
					st.diskFull = false
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
			m.lastLimit[id] = st.last
		}
	}
	m.mu.Unlock()
	return next
}

// LastLimit returns the last limit a running sandbox hit since the daemon
// started, or "".
func (m *Manager) LastLimit(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastLimit[id]
}
