package apiserver

import (
	"net/http"
	"strconv"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/sandbox"
)

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	return writeJSON(w, http.StatusOK, client.Identity{Team: id.TeamName, Key: id.KeyName, Admin: id.Admin})
}

func (s *Server) createSandbox(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.Create(r.Context(), id.TeamID, sandbox.CreateOptions{
		Name: req.Name, Template: req.Template, VCPUs: req.VCPUs, MemoryMB: req.MemoryMB,
		Env: req.Env, Metadata: req.Metadata,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wireSandbox(sb, id.TeamName))
}

func (s *Server) listSandboxes(w http.ResponseWriter, r *http.Request) error {
	all, err := boolParam(r, "all")
	if err != nil {
		return err
	}
	id := identity(r.Context())
	list, err := s.sandboxes.List(r.Context(), id.TeamID, all)
	if err != nil {
		return err
	}
	out := struct {
		Sandboxes []client.Sandbox `json:"sandboxes"`
	}{Sandboxes: []client.Sandbox{}}
	for _, sb := range list {
		out.Sandboxes = append(out.Sandboxes, wireSandbox(sb, id.TeamName))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getSandbox(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	sb, err := s.sandboxes.Get(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wireSandbox(sb, id.TeamName))
}

func (s *Server) destroySandbox(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	sb, err := s.sandboxes.Destroy(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wireSandbox(sb, id.TeamName))
}

// boolParam reads an optional boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid("query parameter %s must be true or false, got %q", name, v)
	}
	return b, nil
}
