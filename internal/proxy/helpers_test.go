package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

const (
	idA       = "sandbox-aaaa1111"
	idB       = "sandbox-bbbb2222"
	tokenA    = "token-of-a-0123456789"
	tokenB    = "token-of-b-0123456789"
	agentPort = 49983
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fakeResolver routes sandboxes to test upstreams and counts Resolve and
// Done calls; a second Done for one route fails the test.
type fakeResolver struct {
	t *testing.T

	mu     sync.Mutex
	routes map[string]Route // by sandbox ID
	errs   map[string]error // by sandbox ID
	calls  int

	resolved atomic.Int64
	done     atomic.Int64
}

func newFakeResolver(t *testing.T) *fakeResolver {
	return &fakeResolver{t: t, routes: map[string]Route{}, errs: map[string]error{}}
}

func (f *fakeResolver) set(id string, r Route) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[id] = r
}

func (f *fakeResolver) fail(id string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[id] = err
}

func (f *fakeResolver) Resolve(ctx context.Context, id string, port int) (Route, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := f.errs[id]; err != nil {
		return Route{}, err
	}
	r, ok := f.routes[id]
	if !ok {
		return Route{}, fmt.Errorf("sandbox %s: %w", id, errdefs.ErrNotFound)
	}
	f.resolved.Add(1)
	var once atomic.Int32
	r.Done = func() {
		if once.Add(1) > 1 {
			f.t.Errorf("Done called twice for %s port %d", id, port)
		}
		f.done.Add(1)
	}
	return r, nil
}

func (f *fakeResolver) resolveCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// waitDone waits until every resolved route got its Done and checks that
// there were n of them.
func (f *fakeResolver) waitDone(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if f.resolved.Load() == n && f.done.Load() == n {
			time.Sleep(20 * time.Millisecond) // a late second Done would show now
			if f.done.Load() == n {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("resolved %d, done %d, want %d each", f.resolved.Load(), f.done.Load(), n)
}

// devServer is a test dev server behind a listener that counts connections
// and the bytes the proxy sent.
type devServer struct {
	*httptest.Server
	conns atomic.Int64
	bytes atomic.Int64
}

func newDevServer(t *testing.T, h http.Handler) *devServer {
	t.Helper()
	u := newDevServerUnstarted(t, h)
	u.Start()
	return u
}

// newDevServerUnstarted lets the caller set hooks before Start.
func newDevServerUnstarted(t *testing.T, h http.Handler) *devServer {
	t.Helper()
	u := &devServer{Server: httptest.NewUnstartedServer(h)}
	u.Listener = &countingListener{Listener: u.Listener, u: u}
	t.Cleanup(u.Close)
	return u
}

func (u *devServer) addr() string { return u.Listener.Addr().String() }

func (u *devServer) assertUntouched(t *testing.T) {
	t.Helper()
	time.Sleep(20 * time.Millisecond)
	if c, b := u.conns.Load(), u.bytes.Load(); c != 0 || b != 0 {
		t.Errorf("upstream got %d connections and %d bytes, want none", c, b)
	}
}

type countingListener struct {
	net.Listener
	u *devServer
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.u.conns.Add(1)
	return &countingConn{Conn: c, u: l.u}, nil
}

type countingConn struct {
	net.Conn
	u *devServer
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.u.bytes.Add(int64(n))
	return n, err
}

// seen is what the echo upstream reports about a request.
type seen struct {
	Method string
	Host   string
	URI    string
	Header http.Header
}

// echo answers with what it saw, as JSON.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seen{Method: r.Method, Host: r.Host, URI: r.RequestURI, Header: r.Header})
})

// testEnv is a proxy behind an httptest server, a fake resolver and an
// echo upstream that both test sandboxes route to.
type testEnv struct {
	t     *testing.T
	p     *Proxy
	res   *fakeResolver
	up    *devServer
	srv   *httptest.Server
	logs  *syncBuffer
	plain *http.Client
}

func newEnv(t *testing.T, h http.Handler) *testEnv {
	t.Helper()
	res := newFakeResolver(t)
	up := newDevServer(t, h)
	res.set(idA, Route{Addr: up.addr(), Token: tokenA})
	res.set(idB, Route{Addr: up.addr(), Token: tokenB})
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(Config{PublicPort: 8080, ReservedPorts: []int{agentPort}, SigningKey: testKey}, res, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	t.Cleanup(client.CloseIdleConnections)
	return &testEnv{t: t, p: p, res: res, up: up, srv: srv, logs: logs, plain: client}
}

// host is the public host of a sandbox port on the test proxy.
func host(id string, port int) string { return fmt.Sprintf("%d-%s.sandboxes.localhost:8080", port, id) }

// request builds a request to the proxy for host and path.
func (e *testEnv) request(method, host, path string, body io.Reader) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = host
	return req
}

// do sends req and returns the response with its body read.
func (e *testEnv) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.plain.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// get sends a GET to host and path with extra headers ("Name: value").
func (e *testEnv) get(host, path string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req := e.request(http.MethodGet, host, path, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	return e.do(req)
}

// decodeSeen decodes the echo upstream's report.
func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("upstream answer %q: %v", body, err)
	}
	return s
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
