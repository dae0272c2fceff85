package sandbox

import (
	"context"
	"time"
)

// Hooks for the external tests of the limit checks.

// LimitState is what CheckLimits carries from one check to the next.
type LimitState = limitState

// CheckLimits runs one periodic limit check over list, and waits for the
// process counts it started, which the next check reads.
func (m *Manager) CheckLimits(ctx context.Context, list []*Sandbox, seen map[string]LimitState) map[string]LimitState {
	next := m.checkLimits(ctx, list, seen)
	m.pids.wg.Wait()
	return next
}

// Entries is how many sandboxes the manager keeps in memory.
func (m *Manager) Entries() int { return m.entryCount() }

// SetPidsCounter replaces the agent as the source of process counts.
func (m *Manager) SetPidsCounter(f func(ctx context.Context, sb *Sandbox) (int, error)) {
	m.countPids = f
}

// StartLimitCheck runs one periodic limit check over list without waiting
// for the process counts it started.
func (m *Manager) StartLimitCheck(ctx context.Context, list []*Sandbox, seen map[string]LimitState) map[string]LimitState {
	return m.checkLimits(ctx, list, seen)
}

// SetClock replaces the manager's clock.
func (m *Manager) SetClock(now func() time.Time) { m.now = now }

// CheckLifetimes runs one periodic lifetime check over the live sandboxes
// and waits for what it started.
func (m *Manager) CheckLifetimes(ctx context.Context) error {
	list, err := m.store.ListSandboxes(ctx, "", false)
	if err != nil {
		return err
	}
	m.checkLifetimes(ctx, list, m.now())
	m.lifeWG.Wait()
	return nil
}

// Reserve checks sb against its team's quotas and holds its place.
func (m *Manager) Reserve(ctx context.Context, sb *Sandbox) (func(), error) {
	return m.reserve(ctx, sb)
}
