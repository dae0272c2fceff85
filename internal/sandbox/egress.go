package sandbox

import (
	"context"
	"fmt"

	"github.com/runtools/runtools/internal/egress"
	"github.com/runtools/runtools/internal/errdefs"
)

// SetEgress replaces the egress policy of a team's live sandbox. The
// firewall changes first, then the record; if recording fails, the old
// policy goes back into the firewall.
func (m *Manager) SetEgress(ctx context.Context, teamID, ref string, p egress.Policy) (*Sandbox, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, err
	}
	sb, unlock, err := m.getLocked(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	switch sb.State {
	case Destroyed, Error, Stopping:
		return nil, fmt.Errorf("%w: sandbox %s is %s; create a new one with the policy you want", errdefs.ErrConflict, sb.ID, sb.State)
	}
	old := sb.Egress
	sb.Egress, sb.Why = p, ""
	running := sb.State != Stopped // a stopped sandbox's is applied when it starts
	if running {
		if err := m.net.Apply(ctx, sb); err != nil {
			return nil, fmt.Errorf("applying the egress policy: %w", err)
		}
	}
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		sb.Egress = old
		if !running {
			return nil, fmt.Errorf("recording the egress policy: %w", err)
		}
		if uerr := m.net.Apply(ctx, sb); uerr != nil {
			m.log.Error("restoring the old egress policy", "sandbox", sb.ID, "err", uerr)
		}
		return nil, fmt.Errorf("recording the egress policy: %w", err)
	}
	m.log.Info("egress policy changed", "sandbox", sb.ID, "default", p.Default, "allow", len(p.Allow), "deny", len(p.Deny))
	return sb, nil
}
