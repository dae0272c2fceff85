package apiserver

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/egress"
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
	opts := sandbox.CreateOptions{
		Name: req.Name, Template: req.Template, VCPUs: req.VCPUs, MemoryMB: req.MemoryMB,
		Env: req.Env, Metadata: req.Metadata, Public: req.Public, Ports: req.Ports, Password: req.Password,
		Disk: req.Disk, AutoStart: req.AutoStart,
	}
	if req.Egress != nil {
		opts.Egress = egress.Policy{Default: req.Egress.Default, Allow: req.Egress.Allow, Deny: req.Egress.Deny}
	}
	if req.IdleTimeout != nil {
		d, err := idleTimeout(*req.IdleTimeout)
		if err != nil {
			return err
		}
		opts.IdleTimeout = &d
	}
	sb, err := s.sandboxes.Create(r.Context(), id.TeamID, opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.wire(sb, id.TeamName))
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
	return writeList(w, "sandboxes", list, func(sb *sandbox.Sandbox) client.Sandbox { return s.wire(sb, id.TeamName) })
}

func (s *Server) getSandbox(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	sb, err := s.sandboxes.Get(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

func (s *Server) destroySandbox(w http.ResponseWriter, r *http.Request) error {
	return s.lifecycle(w, r, s.sandboxes.Destroy)
}

// idleTimeout converts idle_timeout seconds to a duration, refusing what
// is out of the manager's range before the multiplication can overflow
// back into it.
func idleTimeout(secs int) (time.Duration, error) {
	maxSecs := int(sandbox.MaxIdleTimeout / time.Second)
	if secs < 0 || secs > maxSecs {
		return 0, invalid("idle_timeout must be between 0 (never pause) and %d seconds, got %d", maxSecs, secs)
	}
	return time.Duration(secs) * time.Second, nil
}

// boolParam reads an optional boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) { return boolParamOr(r, name, false) }

// boolParamOr reads a true or false query parameter, def when it is absent.
func boolParamOr(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid("query parameter %s must be true or false, got %q", name, v)
	}
	return b, nil
}

func (s *Server) updateSandbox(w http.ResponseWriter, r *http.Request) error {
	var req client.UpdateRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.IdleTimeout == nil && req.Public == nil && req.AutoStart == nil {
		return invalid("nothing to change: the body may set idle_timeout (seconds, 0 never pauses), public and auto_start (true or false)")
	}
	id := identity(r.Context())
	var sb *sandbox.Sandbox
	if req.IdleTimeout != nil {
		d, err := idleTimeout(*req.IdleTimeout)
		if err != nil {
			return err
		}
		if sb, err = s.sandboxes.SetIdleTimeout(r.Context(), id.TeamID, r.PathValue("ref"), d); err != nil {
			return err
		}
	}
	if req.Public != nil {
		var err error
		if sb, err = s.sandboxes.SetPublic(r.Context(), id.TeamID, r.PathValue("ref"), *req.Public); err != nil {
			return err
		}
	}
	if req.AutoStart != nil {
		var err error
		if sb, err = s.sandboxes.SetAutoStart(r.Context(), id.TeamID, r.PathValue("ref"), *req.AutoStart); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

func (s *Server) pauseSandbox(w http.ResponseWriter, r *http.Request) error {
	return s.lifecycle(w, r, s.sandboxes.Pause)
}

func (s *Server) resumeSandbox(w http.ResponseWriter, r *http.Request) error {
	return s.lifecycle(w, r, s.sandboxes.Resume)
}

func (s *Server) stopSandbox(w http.ResponseWriter, r *http.Request) error {
	return s.lifecycle(w, r, s.sandboxes.Stop)
}

func (s *Server) startSandbox(w http.ResponseWriter, r *http.Request) error {
	return s.lifecycle(w, r, s.sandboxes.Boot)
}

// lifecycle answers a call that moves the sandbox named in the path to
// another state with the sandbox as it is after.
func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request, move func(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)) error {
	id := identity(r.Context())
	sb, err := move(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

func (s *Server) sandboxEvents(w http.ResponseWriter, r *http.Request) error {
	events, err := s.sandboxes.Events(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return writeList(w, "events", events, func(ev sandbox.Event) client.SandboxEvent {
		return client.SandboxEvent{At: ev.At, From: string(ev.From), To: string(ev.To), Why: ev.Why}
	})
}

func (s *Server) setEgress(w http.ResponseWriter, r *http.Request) error {
	var req client.Egress
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.SetEgress(r.Context(), id.TeamID, r.PathValue("ref"),
		egress.Policy{Default: req.Default, Allow: req.Allow, Deny: req.Deny})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}
