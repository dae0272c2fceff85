// Package client is the Go SDK for runtools: create sandboxes, run
// commands in them, move files and destroy them. The runtools CLI is a thin
// user of this package.
//
//	c, err := client.FromEnv()
//	sb, err := c.Create(ctx, client.CreateRequest{Template: "base"})
//	res, err := sb.Exec(ctx, client.ExecRequest{Cmd: []string{"node", "--version"}})
//	err = sb.Destroy(ctx)
//
// Errors wrap the kinds in errors.go, so errors.Is(err, client.ErrNotFound)
// works.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Environment variables read by FromEnv.
const (
	EnvURL    = "RUNTOOLS_URL"
	EnvAPIKey = "RUNTOOLS_API_KEY"
)

// DefaultURL is where a local server listens by default.
const DefaultURL = "http://127.0.0.1:7070"

// Client talks to a runtools server. It is safe for concurrent use.
type Client struct {
	base *url.URL
	key  string
	http *http.Client
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client used for every call.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a client for the server at baseURL, authenticating with apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: server URL %q must look like http://host:port", ErrInvalidArgument, baseURL)
	}
	if apiKey == "" {
		return nil, fmt.Errorf("%w: no API key: set %s or run `runtools login`", ErrUnauthenticated, EnvAPIKey)
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Transport: defaultTransport()}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// FromEnv builds a client from RUNTOOLS_URL and RUNTOOLS_API_KEY.
func FromEnv(opts ...Option) (*Client, error) {
	return New(os.Getenv(EnvURL), os.Getenv(EnvAPIKey), opts...)
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.DisableCompression = true
	return t
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", "runtools-go-client")
	return req, nil
}

// do sends a request and returns the response when its status is 2xx;
// otherwise it decodes the error body into an *APIError.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%w: cannot reach runtools server at %s: %v (is `runtools server` running? check %s)", ErrUnavailable, c.base, err, EnvURL)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer closeBody(resp)
	return nil, decodeError(resp)
}

// closeBody drains what is left of an answer (a trailing newline, the end
// of a chunked stream) before closing it, so the connection is reused:
// otherwise every call would pay for a new TCP connection.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func decodeError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body ErrorBody
	if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
		return &APIError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message, Quota: body.Error.Quota}
	}
	code := "internal"
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		code = "unauthenticated"
	case http.StatusNotFound:
		code = "not_found"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		code = "unavailable"
	}
	return &APIError{Status: resp.StatusCode, Code: code, Message: strings.TrimSpace(string(data))}
}

// call sends a JSON request (in may be nil) and decodes a JSON answer into out (may be nil).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
	}
	return nil
}

// getList GETs path and returns the list its JSON answer holds under
// field (nil when it holds none).
func getList[T any](ctx context.Context, c *Client, path string, query url.Values, field string) ([]T, error) {
	var out map[string]json.RawMessage
	if err := c.call(ctx, http.MethodGet, path, query, nil, &out); err != nil {
		return nil, err
	}
	var list []T
	if raw, ok := out[field]; ok {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("decoding answer of GET %s: %w", path, err)
		}
	}
	return list, nil
}

// stream sends a JSON request and calls onEvent for each NDJSON line of the answer.
func (c *Client) stream(ctx context.Context, method, path string, query url.Values, in any, onLine func([]byte) error) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body, contentType = bytes.NewReader(data), "application/json"
	}
	return c.streamBody(ctx, method, path, query, body, contentType, onLine)
}

// streamBody sends body (of contentType, "" for none) and reads the NDJSON
// answer, a line at a time.
func (c *Client) streamBody(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string, onLine func([]byte) error) error {
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/x-ndjson")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	return readLines(resp.Body, onLine)
}

var errStreamEnd = errors.New("stream ended")

func sandboxPath(ref string, rest ...string) string {
	p := "/v1/sandboxes/" + url.PathEscape(ref)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}
