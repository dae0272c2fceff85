// Package agentclient is the daemon's client for the in-sandbox agent
// (package agent). Errors wrap the errdefs kinds, so errors.Is(err,
// errdefs.ErrNotFound) works on whatever the agent reported; failing to
// reach the agent at all is errdefs.ErrUnavailable.
package agentclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// Client talks to one agent. It is safe for concurrent use.
type Client struct {
	base   string
	auth   string
	dialer *net.Dialer
	tr     *http.Transport
	hc     *http.Client
}

// responseHeaderTimeout bounds the wait for an answer's headers: the agent
// answers at once, streams and upgrades included.
const responseHeaderTimeout = 30 * time.Second

// New returns a client for the agent at baseURL (e.g.
// "http://10.88.0.5:49983") that authenticates with token.
func New(baseURL, token string) *Client {
	dialer := &net.Dialer{
		Timeout:   2 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	tr := &http.Transport{
		Proxy:               nil, // the agent is on a private address: never via a proxy from the environment
		DialContext:         dialer.DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 16,
		// Shorter than the agent's idle timeout, so the client drops an idle
		// connection before the agent does.
		IdleConnTimeout: 60 * time.Second,
		// The agent answers with headers at once, streams included; a
		// sandbox that vanished under a kept-alive connection must not hang
		// the caller forever.
		ResponseHeaderTimeout: responseHeaderTimeout,
		DisableCompression:    true,
		ReadBufferSize:        64 << 10,
		WriteBufferSize:       64 << 10,
	}
	return &Client{
		base:   strings.TrimRight(baseURL, "/"),
		auth:   "Bearer " + token,
		dialer: dialer,
		tr:     tr,
		// No overall timeout: exec and output streams last as long as their
		// process. Callers bound calls with their context.
		hc: &http.Client{Transport: tr},
	}
}

// Close closes idle connections. In-flight calls are not affected, nor are
// attach and SFTP sessions, which have connections of their own.
func (c *Client) Close() {
	c.tr.CloseIdleConnections()
}

// do sends a request and returns the response if its status is 2xx; any
// other status becomes an error of the agent's kind.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, transportError(ctx, method+" "+path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// newRequest builds an authenticated request to the agent.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%w: building request %s %s: %w", errdefs.ErrInvalidArgument, method, path, err)
	}
	req.Header.Set("Authorization", c.auth)
	return req, nil
}

// encodeJSON encodes a request's body; what names the request in the
// error.
func encodeJSON(what string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding %s: %w", errdefs.ErrInvalidArgument, what, err)
	}
	return b, nil
}

// transportError wraps a failure to talk to the agent. It is ErrUnavailable
// unless the caller's context ended.
func transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("agent %s: %w", op, err)
	}
	return fmt.Errorf("agent %s: %w: %w", op, errdefs.ErrUnavailable, err)
}

// responseError turns a non-2xx answer into an error wrapping the kind the
// agent reported (or, for a body that is not an agentapi.Error, the kind
// its status suggests).
func responseError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e agentapi.Error
	msg := strings.TrimSpace(string(b))
	kind := statusKind(resp.StatusCode)
	if json.Unmarshal(b, &e) == nil && e.Code != "" {
		msg = e.Message
		if k := errdefs.FromCode(e.Code); k != nil {
			kind = k
		}
	}
	if msg == "" {
		msg = resp.Status
	}
	if kind == nil {
		return fmt.Errorf("agent: %s: %s", resp.Status, msg)
	}
	return fmt.Errorf("%w: %s", kind, msg)
}

func statusKind(status int) error {
	switch status {
	case http.StatusBadRequest:
		return errdefs.ErrInvalidArgument
	case http.StatusUnauthorized:
		return errdefs.ErrUnauthenticated
	case http.StatusForbidden:
		return errdefs.ErrPermissionDenied
	case http.StatusNotFound:
		return errdefs.ErrNotFound
	case http.StatusConflict:
		return errdefs.ErrConflict
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return errdefs.ErrUnavailable
	}
	return nil
}

// getJSON, sendJSON: the request/response calls.

func (c *Client) getJSON(ctx context.Context, path string, query url.Values, out any) error {
	return c.call(ctx, http.MethodGet, path, query, nil, "", out)
}

func (c *Client) sendJSON(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := encodeJSON("request", in)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	return c.call(ctx, method, path, query, body, ct, out)
}

func (c *Client) call(ctx context.Context, method, path string, query url.Values, body io.Reader, ct string, out any) error {
	resp, err := c.do(ctx, method, path, query, body, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return transportError(ctx, "decoding "+method+" "+path, err)
	}
	io.Copy(io.Discard, resp.Body) // trailing newline: keeps the connection reusable
	return nil
}

// Health asks whether the agent is up.
func (c *Client) Health(ctx context.Context) (agentapi.Health, error) {
	var h agentapi.Health
	err := c.getJSON(ctx, "/health", nil, &h)
	return h, err
}

// WaitReady polls Health until the agent answers or ctx ends. The first
// probe is immediate and retries come every interval (2 ms when interval
// <= 0), because sandbox create latency is measured up to this point.
// Refused or reset connections are expected while the sandbox boots; an
// answer other than success (such as a wrong token) ends the wait.
func (c *Client) WaitReady(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 2 * time.Millisecond
	}
	// A probe is cut short so that a SYN lost while the sandbox network
	// comes up is retried now, not after the kernel's 1 s retransmit.
	const probeTimeout = 250 * time.Millisecond
	var timer *time.Timer
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := c.Health(pctx)
		// A probe cut short may fail with whatever the dial met at that
		// moment (a refused connection), not with the deadline.
		cutShort := pctx.Err() != nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for agent: %w (last error: %v)", ctx.Err(), err)
		}
		if !cutShort && !errors.Is(err, errdefs.ErrUnavailable) {
			return fmt.Errorf("waiting for agent: %w", err)
		}
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for agent: %w (last error: %v)", ctx.Err(), err)
		case <-timer.C:
		}
	}
}

// Pids returns the number of processes in the sandbox.
func (c *Client) Pids(ctx context.Context) (int, error) {
	var res agentapi.Pids
	err := c.getJSON(ctx, "/pids", nil, &res)
	return res.Processes, err
}

// Spawn asks the agent to time n fork+exec+wait of `true`.
func (c *Client) Spawn(ctx context.Context, n int) ([]time.Duration, error) {
	var res agentapi.SpawnResult
	if err := c.getJSON(ctx, "/debug/spawn", url.Values{"n": {fmt.Sprint(n)}}, &res); err != nil {
		return nil, err
	}
	out := make([]time.Duration, len(res.Nanos))
	for i, ns := range res.Nanos {
		out[i] = time.Duration(ns)
	}
	return out, nil
}

// SetToken gives the agent a new token (and random bytes for the guest's
// entropy pool). This client keeps the old one: make a new client for the
// agent afterwards.
func (c *Client) SetToken(ctx context.Context, token string, seed []byte) error {
	return c.sendJSON(ctx, http.MethodPost, "/token", nil, agentapi.TokenRequest{Token: token, Seed: seed}, nil)
}
