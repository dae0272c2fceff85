package client

import (
	"context"
	"net/http"
	"strconv"
)

// Expose makes a port of the sandbox reachable at its dev-server URL.
func (c *Client) Expose(ctx context.Context, ref string, port int) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPost, sandboxPath(ref, "ports"), PortRequest{Port: port})
}

// Unexpose makes a port unreachable through the dev-server URLs.
func (c *Client) Unexpose(ctx context.Context, ref string, port int) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodDelete, sandboxPath(ref, "ports", strconv.Itoa(port)), nil)
}

// SetPublic makes the sandbox's dev-server URLs public (no token) or private.
func (c *Client) SetPublic(ctx context.Context, ref string, public bool) (*Sandbox, error) {
	return c.sandboxCall(ctx, http.MethodPatch, sandboxPath(ref), UpdateRequest{Public: &public})
}

// SignedLink returns a URL that opens a private port of the sandbox in a
// browser until it expires (ttlSeconds 0 = one hour).
func (c *Client) SignedLink(ctx context.Context, ref string, port, ttlSeconds int) (*Link, error) {
	var l Link
	err := c.call(ctx, http.MethodPost, sandboxPath(ref, "links"), nil, LinkRequest{Port: port, TTL: ttlSeconds}, &l)
	return &l, err
}
