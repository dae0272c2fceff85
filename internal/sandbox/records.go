package sandbox

import (
	"context"

	"github.com/runtools/runtools/internal/agent/agentclient"
)

// The record cache: the dev-server proxy and every agent call read a
// sandbox's record, which changes seldom; the store says when it does.

// cachedSandbox returns a sandbox's record, from memory while no record or
// event has been written since it was read (the dev-server proxy asks for
// every request), and the channel that says when it is stale.
func (m *Manager) cachedSandbox(ctx context.Context, id string) (*Sandbox, <-chan struct{}, error) {
	m.mu.Lock()
	var c *cachedRecord
	if e := m.entries[id]; e != nil {
		c = e.record
	}
	m.mu.Unlock()
	if c != nil && !isClosed(c.changed) {
		return c.sb, c.changed, nil
	}
	changed := m.store.Changed() // before reading: a write after it closes it
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if sb.Live() { // a stopped sandbox's entry would outlive it
		m.mu.Lock()
		m.entryLocked(id).record = &cachedRecord{sb: sb, changed: changed}
		m.mu.Unlock()
	}
	return sb, changed, nil
}

// Record returns the record of the sandbox with this ID, of any team, from
// memory while it is current. The caller must not change it.
func (m *Manager) Record(ctx context.Context, id string) (*Sandbox, error) {
	sb, _, err := m.cachedSandbox(ctx, id)
	return sb, err
}

// useCached is Use's fast path, for a sandbox named by ID whose cached
// record is current and says running: no database read. begin waits out
// any pause claim, and a pause that finished meanwhile wrote its state
// (making the record stale), so checking after begin is enough. ok false
// means: take the slow path.
func (m *Manager) useCached(ctx context.Context, teamID, ref string) (*agentclient.Client, *Sandbox, func(), bool) {
	if !IsID(ref) {
		return nil, nil, nil, false
	}
	sb, changed, err := m.cachedSandbox(ctx, ref)
	if err != nil || sb.TeamID != teamID || sb.State != Running {
		return nil, nil, nil, false
	}
	a := m.activity(sb.ID)
	a.begin(m.now)
	if isClosed(changed) {
		a.end(m.now)
		return nil, nil, nil, false
	}
	return m.agentFor(sb), sb, func() { a.end(m.now) }, true
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
