package sandbox

import (
	"context"
	"fmt"
	"time"
)

// Meter is the optional runtime ability to report a sandbox's CPU use.
type Meter interface {
	// CPUTime is the total CPU time the sandbox has used.
	CPUTime(id string) (time.Duration, error)
}

// Idle-pause settings: how often sandboxes are checked (their CPU use
// too), and how much CPU counts as activity: a share of one CPU over the
// check interval.
const (
	idleCheckInterval = time.Second
	busyCPUShare      = 0.05
)

// RunIdle pauses sandboxes that have been idle for their idle timeout,
// until ctx ends. CPU use above busyCPUShare counts as activity.
func (m *Manager) RunIdle(ctx context.Context) {
	tick := time.NewTicker(idleCheckInterval)
	defer tick.Stop()
	cpu := map[string]time.Duration{}
	limits := map[string]limitState{}
	lastCPU := m.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		list, err := m.own(ctx)
		if err != nil {
			m.log.Warn("idle check: listing sandboxes", "err", err)
			continue
		}
		m.forgetGone(ctx, list)
		now := m.now()
		cpu = m.meterCPU(list, cpu, now.Sub(lastCPU), now)
		limits = m.checkLimits(ctx, list, limits)
		m.checkLifetimes(ctx, list, now)
		lastCPU = now
		for _, sb := range list {
			if sb.State != Running || sb.IdleTimeout <= 0 {
				continue
			}
			a := m.activity(sb.ID)
			if a.claimIdle(now, sb.IdleTimeout) {
				m.wg.Add(1)
				go func(id string, timeout time.Duration) {
					defer m.wg.Done()
					defer a.release(m.now())
					m.idlePause(ctx, id, timeout)
				}(sb.ID, sb.IdleTimeout)
			}
		}
	}
}

// meterCPU touches the activity of sandboxes whose CPU use over the last
// interval was above busyCPUShare, and returns the new totals.
func (m *Manager) meterCPU(list []*Sandbox, prev map[string]time.Duration, interval time.Duration, now time.Time) map[string]time.Duration {
	meter, ok := m.rt.(Meter)
	if !ok {
		return prev
	}
	next := make(map[string]time.Duration, len(list))
	for _, sb := range list {
		if sb.State != Running {
			continue
		}
		used, err := meter.CPUTime(sb.ID)
		if err != nil {
			continue
		}
		next[sb.ID] = used
		if before, ok := prev[sb.ID]; ok && float64(used-before) > busyCPUShare*float64(interval) {
			m.activity(sb.ID).touch(now)
		}
	}
	return next
}

func (m *Manager) idlePause(ctx context.Context, id string, timeout time.Duration) {
	ctx = context.WithoutCancel(ctx)
	unlock := m.lock(id)
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil || sb.State != Running {
		return
	}
	why := fmt.Sprintf("idle for %s", timeout)
	if err := m.pause(ctx, sb, why); err != nil {
		m.log.Warn("idle pause failed", "sandbox", id, "err", err)
	}
}

// SetIdleTimeout changes how long a sandbox may be idle before it is paused.
func (m *Manager) SetIdleTimeout(ctx context.Context, teamID, ref string, d time.Duration) (*Sandbox, error) {
	if err := validIdleTimeout(d); err != nil {
		return nil, err
	}
	sb, unlock, err := m.getLocked(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sb.IdleTimeout = d
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, err
	}
	m.activity(sb.ID).touch(m.now())
	return sb, nil
}
