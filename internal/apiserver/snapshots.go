package apiserver

import (
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/sandbox"
)

func wireSnapshot(sn *sandbox.Snapshot) client.Snapshot {
	return client.Snapshot{ID: sn.ID, Name: sn.Name, SizeBytes: sn.Size, Pinned: sn.Pinned, CreatedAt: sn.CreatedAt}
}

// optionalBody decodes a JSON body if there is one.
func optionalBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(w, r, v)
}

func (s *Server) takeSnapshot(w http.ResponseWriter, r *http.Request) error {
	var req client.SnapshotRequest
	if err := optionalBody(w, r, &req); err != nil {
		return err
	}
	sn, err := s.sandboxes.TakeSnapshot(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"), req.Name, req.Pin)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wireSnapshot(sn))
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) error {
	list, err := s.sandboxes.Snapshots(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeList(w, "snapshots", list, wireSnapshot)
}

func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request) error {
	if err := s.sandboxes.DeleteSnapshot(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"), r.PathValue("snap")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) error {
	var req client.RollbackRequest
	if err := optionalBody(w, r, &req); err != nil {
		return err
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.Rollback(r.Context(), id.TeamID, r.PathValue("ref"), req.Snapshot)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

func (s *Server) fork(w http.ResponseWriter, r *http.Request) error {
	var req client.ForkRequest
	if err := optionalBody(w, r, &req); err != nil {
		return err
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.Fork(r.Context(), id.TeamID, r.PathValue("ref"), req.Snapshot, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.wire(sb, id.TeamName))
}
