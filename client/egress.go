package client

import (
	"context"
	"net/http"
)

// SetEgress replaces a sandbox's egress policy. It applies at once, to new
// connections; Egress{Default: "deny"} cuts the sandbox off the internet,
// while its team's sandboxes stay reachable.
func (c *Client) SetEgress(ctx context.Context, ref string, e Egress) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPut, sandboxPath(ref, "egress"), e)
}

// SetEgress replaces the sandbox's egress policy and refreshes its fields.
func (s *Sandbox) SetEgress(ctx context.Context, e Egress) error {
	fresh, err := s.c.SetEgress(ctx, s.ref(), e)
	if err == nil {
		*s = *fresh
	}
	return err
}
