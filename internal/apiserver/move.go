package apiserver

import (
	"context"
	"fmt"
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// Mover moves paused sandboxes between the nodes of a cluster.
type Mover interface {
	// Move brings a paused sandbox another node ran onto this node and
	// resumes it here.
	Move(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)
	// WaitStored waits until the image of a sandbox paused here is in
	// the object store.
	WaitStored(ctx context.Context, id string) (*sandbox.Sandbox, error)
	// Release removes what this node keeps of a sandbox moved away.
	Release(ctx context.Context, id string) error
}

// moveSandbox moves a paused sandbox (or one whose node is lost) to the
// node the body names, or to the one placement picks, and resumes it
// there: the request goes on to that node, which fetches its image.
func (s *Server) moveSandbox(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	sb, err := s.sandboxes.Get(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	var req client.MoveRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if s.cluster == nil || s.mover == nil {
		return fmt.Errorf("%w: this server keeps no images in an object store (--object-store), so sandboxes do not move", errdefs.ErrUnavailable)
	}
	to := req.Node
	if _, forwarded := s.cluster.Forwarded(r); to == "" && !forwarded {
		n, err := s.cluster.Place(r.Context(), sb.Template)
		if err != nil {
			return err
		}
		to = n.Name
	}
	if to != "" && to != s.cluster.Name() {
		n, err := s.node(r.Context(), to, "the node to move to")
		if err != nil {
			return err
		}
		if err := rebody(r, client.MoveRequest{Node: to}); err != nil {
			return err
		}
		s.cluster.Forward(w, r, n, func(err error) { s.writeError(w, r, err) })
		return nil
	}
	moved, err := s.mover.Move(r.Context(), id.TeamID, sb.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(moved, id.TeamName))
}

// resumeElsewhere resumes, on another node, a paused sandbox whose node is
// lost: it moves.
func (s *Server) resumeElsewhere(w http.ResponseWriter, r *http.Request, sb *sandbox.Sandbox) error {
	n, err := s.cluster.Place(r.Context(), sb.Template)
	if err != nil {
		return err
	}
	if n.Name != s.cluster.Name() {
		r.URL.Path = "/v1/sandboxes/" + sb.ID + "/move"
		if err := rebody(r, client.MoveRequest{Node: n.Name}); err != nil {
			return err
		}
		s.cluster.Forward(w, r, n, func(err error) { s.writeError(w, r, err) })
		return nil
	}
	if s.mover == nil {
		return fmt.Errorf("%w: sandbox %s is on a lost node, and this server keeps no images in an object store", errdefs.ErrUnavailable, sb.ID)
	}
	moved, err := s.mover.Move(r.Context(), identity(r.Context()).TeamID, sb.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(moved, identity(r.Context()).TeamName))
}
