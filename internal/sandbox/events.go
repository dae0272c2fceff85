package sandbox

// Events: what happened to sandboxes, as the store records it.

import "context"

// Events returns a team's sandbox's recorded transitions.
func (m *Manager) Events(ctx context.Context, teamID, ref string) ([]Event, error) {
	sb, err := m.Get(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	return m.store.Events(ctx, sb.ID)
}

// EventsSince returns the events after seq of one sandbox (ref), or of
// every sandbox of the team (ref ""), with a channel closed at the next
// change, to wait on before asking again.
func (m *Manager) EventsSince(ctx context.Context, teamID, ref string, seq int64) ([]Event, <-chan struct{}, error) {
	changed := m.store.Changed() // before reading: no change is missed
	id := ""
	if ref != "" {
		sb, err := m.Get(ctx, teamID, ref)
		if err != nil {
			return nil, nil, err
		}
		id = sb.ID
	}
	evs, err := m.store.EventsSince(ctx, teamID, id, seq, 500)
	return evs, changed, err
}

// LastEventSeq returns the sequence number of the latest event.
func (m *Manager) LastEventSeq(ctx context.Context) (int64, error) { return m.store.LastEventSeq(ctx) }
