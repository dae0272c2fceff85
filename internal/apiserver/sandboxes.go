package apiserver

import (
	"context"
	"net/http"
	"strconv"
	"strings"
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
	if sent, err := s.place(w, r, req); sent || err != nil {
		return err
	}
	id := identity(r.Context())
	opts := sandbox.CreateOptions{
		Name: req.Name, Template: req.Template, VCPUs: req.VCPUs, MemoryMB: req.MemoryMB,
		Env: req.Env, Metadata: req.Metadata, Public: req.Public, Ports: req.Ports, Password: req.Password,
		Disk: req.Disk, AutoStart: req.AutoStart, Labels: req.Labels, OnTimeout: req.OnTimeout,
		Volumes: wireMounts(req.Volumes),
	}
	var err error
	if opts.Timeout, err = lifetime(req.Timeout); err != nil {
		return err
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
	labels, err := labelParams(r)
	if err != nil {
		return err
	}
	id := identity(r.Context())
	list, err := s.sandboxes.ListFiltered(r.Context(), id.TeamID, all, labels)
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

// lifetime converts timeout seconds to a duration, refusing what is out
// of the manager's range before the multiplication can overflow into it.
func lifetime(secs int) (time.Duration, error) {
	maxSecs := int(sandbox.MaxTimeout / time.Second)
	if secs < 0 || secs > maxSecs {
		return 0, invalid("timeout must be between 0 (none) and %d seconds, got %d", maxSecs, secs)
	}
	return time.Duration(secs) * time.Second, nil
}

// labelParams reads the label=KEY=VALUE query parameters of a list.
func labelParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range r.URL.Query()["label"] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, invalid("query parameter label must be KEY=VALUE, got %q", kv)
		}
		out[k] = v
	}
	return out, nil
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
	changes, err := s.updates(req)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return invalid("nothing to change: the body may set idle_timeout (seconds, 0 never pauses), public and auto_start (true or false), timeout (seconds from now, 0 none) and on_timeout (destroy or pause), labels (KEY: VALUE) and remove_labels (keys)")
	}
	id := identity(r.Context())
	var sb *sandbox.Sandbox
	for _, change := range changes {
		if sb, err = change(r.Context(), id.TeamID, r.PathValue("ref")); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

// update is one change an update request asks for.
type update func(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error)

// updates checks an update request and returns the changes it asks for.
func (s *Server) updates(req client.UpdateRequest) ([]update, error) {
	var out []update
	if req.IdleTimeout != nil {
		d, err := idleTimeout(*req.IdleTimeout)
		if err != nil {
			return nil, err
		}
		out = append(out, func(ctx context.Context, team, ref string) (*sandbox.Sandbox, error) {
			return s.sandboxes.SetIdleTimeout(ctx, team, ref, d)
		})
	}
	if req.Public != nil {
		out = append(out, func(ctx context.Context, team, ref string) (*sandbox.Sandbox, error) {
			return s.sandboxes.SetPublic(ctx, team, ref, *req.Public)
		})
	}
	if req.AutoStart != nil {
		out = append(out, func(ctx context.Context, team, ref string) (*sandbox.Sandbox, error) {
			return s.sandboxes.SetAutoStart(ctx, team, ref, *req.AutoStart)
		})
	}
	if req.Timeout == nil && req.OnTimeout != "" {
		return nil, invalid("on_timeout goes with timeout (seconds from now)")
	}
	if req.Timeout != nil {
		d, err := lifetime(*req.Timeout)
		if err != nil {
			return nil, err
		}
		out = append(out, func(ctx context.Context, team, ref string) (*sandbox.Sandbox, error) {
			return s.sandboxes.SetTimeout(ctx, team, ref, d, req.OnTimeout)
		})
	}
	if len(req.Labels) > 0 || len(req.RemoveLabels) > 0 {
		out = append(out, func(ctx context.Context, team, ref string) (*sandbox.Sandbox, error) {
			return s.sandboxes.SetLabels(ctx, team, ref, req.Labels, req.RemoveLabels)
		})
	}
	return out, nil
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
