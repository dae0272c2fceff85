package client

import (
	"context"
	"net/http"
	"net/url"
)

// Create makes a new sandbox and returns when it is running.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, "/v1/sandboxes", req)
}

// Get returns the sandbox with this ID or name.
func (c *Client) Get(ctx context.Context, ref string) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodGet, sandboxPath(ref), nil)
}

// ListOption changes what List returns.
type ListOption func(url.Values)

// IncludeDestroyed makes List return destroyed sandboxes too (stopped ones
// are always listed).
func IncludeDestroyed() ListOption { return func(q url.Values) { q.Set("all", "true") } }

// WithLabel makes List return only sandboxes labelled key=value; with
// several, every one must match.
func WithLabel(key, value string) ListOption {
	return func(q url.Values) { q.Add("label", key+"="+value) }
}

// List returns the team's sandboxes that are not stopped, newest first.
func (c *Client) List(ctx context.Context, opts ...ListOption) ([]*Sandbox, error) {
	q := url.Values{}
	for _, o := range opts {
		o(q)
	}
	list, err := getList[*Sandbox](ctx, c, "/v1/sandboxes", q, "sandboxes")
	for _, sb := range list {
		sb.c = c
	}
	return list, err
}

// Destroy stops the sandbox and removes every trace of it.
func (c *Client) Destroy(ctx context.Context, ref string) error {
	return c.call(ctx, http.MethodDelete, sandboxPath(ref), nil, nil, nil)
}

// Sandbox returns a handle for the sandbox with this ID or name without
// asking the server; its data fields are empty until Refresh.
func (c *Client) Sandbox(ref string) *Sandbox { return &Sandbox{ID: ref, c: c} }

// ref is what calls on a handle name the sandbox by.
func (s *Sandbox) ref() string { return s.ID }

// Refresh reloads the sandbox's fields from the server.
func (s *Sandbox) Refresh(ctx context.Context) error {
	fresh, err := s.c.Get(ctx, s.ref())
	if err != nil {
		return err
	}
	*s = *fresh
	return nil
}

// Destroy stops the sandbox and removes every trace of it.
func (s *Sandbox) Destroy(ctx context.Context) error { return s.c.Destroy(ctx, s.ref()) }

// Exec runs a command to completion and returns its collected output.
func (s *Sandbox) Exec(ctx context.Context, req ExecRequest) (*ExecResult, error) {
	return s.c.Exec(ctx, s.ref(), req)
}

// ExecStream runs a command and streams its output; see Client.ExecStream.
func (s *Sandbox) ExecStream(ctx context.Context, req ExecRequest, opts StreamOptions) (int, error) {
	return s.c.ExecStream(ctx, s.ref(), req, opts)
}

// Files returns the sandbox's file operations.
func (s *Sandbox) Files() *Files { return s.c.Files(s.ref()) }

// Pause saves the sandbox's memory, processes and disk and stops it; it
// then uses no CPU or memory. Any use of it (Exec, Files, ...) wakes it.
func (c *Client) Pause(ctx context.Context, ref string) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "pause"), nil)
}

// Resume brings a paused sandbox back, as it was.
func (c *Client) Resume(ctx context.Context, ref string) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "resume"), nil)
}

// Stop ends the sandbox's processes and keeps its disk; it then uses no
// CPU or memory. Start boots it again, as does any use of it while it
// starts on use (the default).
func (c *Client) Stop(ctx context.Context, ref string) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "stop"), nil)
}

// Boot starts a stopped sandbox (`runtools sandbox start`) from its disk:
// same ID, name, address and URLs, its processes fresh, its template's
// start command run again. (Start runs a background command.)
func (c *Client) Boot(ctx context.Context, ref string) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "start"), nil)
}

// Update changes the settings req sets.
func (c *Client) Update(ctx context.Context, ref string, req UpdateRequest) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPatch, sandboxPath(ref), req)
}

// SetIdleTimeout changes after how many idle seconds the sandbox is paused (0: never).
func (c *Client) SetIdleTimeout(ctx context.Context, ref string, seconds int) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPatch, sandboxPath(ref), UpdateRequest{IdleTimeout: &seconds})
}

// SetTimeout sets the sandbox's hard lifetime to seconds from now (0
// removes it).
func (c *Client) SetTimeout(ctx context.Context, ref string, seconds int) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPatch, sandboxPath(ref), UpdateRequest{Timeout: &seconds})
}

// Events returns the sandbox's recorded state changes, oldest first.
func (c *Client) Events(ctx context.Context, ref string) ([]SandboxEvent, error) {
	return getList[SandboxEvent](ctx, c, sandboxPath(ref, "events"), nil, "events")
}

func (c *Client) sandboxCall(ctx context.Context, method, path string, in any) (*Sandbox, error) {
	var sb Sandbox
	if err := c.call(ctx, method, path, nil, in, &sb); err != nil {
		return nil, err
	}
	sb.c = c
	return &sb, nil
}

// Pause saves the sandbox to disk and stops it; see Client.Pause.
func (s *Sandbox) Pause(ctx context.Context) error {
	fresh, err := s.c.Pause(ctx, s.ref())
	if err == nil {
		*s = *fresh
	}
	return err
}

// Stop ends the sandbox's processes and keeps its disk; see Client.Stop.
func (s *Sandbox) Stop(ctx context.Context) error {
	fresh, err := s.c.Stop(ctx, s.ref())
	if err == nil {
		*s = *fresh
	}
	return err
}

// Boot starts the stopped sandbox from its disk; see Client.Boot.
func (s *Sandbox) Boot(ctx context.Context) error {
	fresh, err := s.c.Boot(ctx, s.ref())
	if err == nil {
		*s = *fresh
	}
	return err
}

// Resume brings the sandbox back; see Client.Resume.
func (s *Sandbox) Resume(ctx context.Context) error {
	fresh, err := s.c.Resume(ctx, s.ref())
	if err == nil {
		*s = *fresh
	}
	return err
}
