package sandbox

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// DefaultPorts are reachable through a new sandbox's dev-server URLs.
var DefaultPorts = []int{3000, 3001, 5173, 8000, 8080}

func validPort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%w: port must be between 1 and 65535, got %d", errdefs.ErrInvalidArgument, port)
	}
	if port == agentapi.Port {
		return fmt.Errorf("%w: port %d is reserved for the runtools agent", errdefs.ErrInvalidArgument, port)
	}
	return nil
}

// Expose makes a port reachable (open) or not (!open) through the
// sandbox's dev-server URLs.
func (m *Manager) Expose(ctx context.Context, teamID, ref string, port int, open bool) (*Sandbox, error) {
	if err := validPort(port); err != nil {
		return nil, err
	}
	return m.update(ctx, teamID, ref, func(sb *Sandbox) {
		i := slices.Index(sb.Ports, port)
		switch {
		case open && i < 0:
			sb.Ports = append(sb.Ports, port)
			slices.Sort(sb.Ports)
		case !open && i >= 0:
			sb.Ports = slices.Delete(sb.Ports, i, i+1)
		}
	})
}

// SetAutoStart sets whether a use of the sandbox while it is stopped
// starts it.
func (m *Manager) SetAutoStart(ctx context.Context, teamID, ref string, on bool) (*Sandbox, error) {
	return m.update(ctx, teamID, ref, func(sb *Sandbox) { sb.AutoStart = on })
}

// SetPublic makes the sandbox's dev-server URLs public or private.
func (m *Manager) SetPublic(ctx context.Context, teamID, ref string, public bool) (*Sandbox, error) {
	return m.update(ctx, teamID, ref, func(sb *Sandbox) { sb.Public = public })
}

// update applies change to a live sandbox's record under its lock.
func (m *Manager) update(ctx context.Context, teamID, ref string, change func(*Sandbox)) (*Sandbox, error) {
	sb, unlock, err := m.getLocked(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !sb.Live() {
		return nil, notRunning(sb)
	}
	change(sb)
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, err
	}
	return sb, nil
}

// Route is where a dev-server request for a sandbox's port goes.
type Route struct {
	// Node, when set, is the node of the cluster that runs the sandbox:
	// the request is its to check and serve, and nothing else is set.
	Node   string
	Addr   string
	Public bool
	Token  string
	// Wake wakes the sandbox if it is paused and counts it busy until
	// Done; call it only once the request may go through.
	Wake func(ctx context.Context) error
	Done func()
}

// Route resolves a dev-server request for port of sandbox id (any team:
// access is decided by the proxy, with the route's token). Nothing is
// woken until the route's Wake.
func (m *Manager) Route(ctx context.Context, id string, port int) (Route, error) {
	sb, _, err := m.cachedSandbox(ctx, id)
	if err != nil {
		return Route{}, err
	}
	if !sb.Live() {
		return Route{}, fmt.Errorf("%w: no sandbox %s", errdefs.ErrNotFound, id)
	}
	if sb.Node != m.cfg.Node {
		return Route{Node: sb.Node}, nil
	}
	if !slices.Contains(sb.Ports, port) {
		return Route{}, fmt.Errorf("%w: port %d of %s is not exposed", errdefs.ErrPermissionDenied, port, id)
	}
	var done func()
	return Route{
		Addr:   net.JoinHostPort(sb.IP.String(), strconv.Itoa(port)),
		Public: sb.Public,
		Token:  sb.AccessToken,
		Wake: func(ctx context.Context) error {
			s, err := m.Open(ctx, sb.TeamID, sb.ID)
			if err == nil {
				done = s.Close
			}
			return err
		},
		Done: func() {
			if done != nil {
				done()
			}
		},
	}, nil
}
