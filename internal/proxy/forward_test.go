package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestForwardedHeaders(t *testing.T) {
	e := newEnv(t, echo)
	resp, body := e.get(host(idA, 5173), "/src/main.ts?import&t=1",
		tokenHeader+": "+tokenA,
		"X-Forwarded-For: 6.6.6.6",
		"X-Forwarded-Host: evil.example",
		"X-Forwarded-Proto: https",
		"X-Forwarded-Port: 443",
		"X-Real-IP: 6.6.6.6",
		"Forwarded: for=6.6.6.6;host=evil.example",
		"Connection: X-Drop-Me",
		"X-Drop-Me: 1",
		"Accept-Encoding: gzip",
	)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	s := decodeSeen(t, body)
	checks := []struct{ what, got, want string }{
		{"Host", s.Host, "localhost:5173"},
		{"URI", s.URI, "/src/main.ts?import&t=1"},
		{"X-Forwarded-For", strings.Join(s.Header.Values("X-Forwarded-For"), ","), "127.0.0.1"},
		{"X-Forwarded-Host", s.Header.Get("X-Forwarded-Host"), host(idA, 5173)},
		{"X-Forwarded-Proto", s.Header.Get("X-Forwarded-Proto"), "http"},
		{"X-Forwarded-Port", s.Header.Get("X-Forwarded-Port"), ""},
		{"X-Real-Ip", s.Header.Get("X-Real-Ip"), ""},
		{"Forwarded", s.Header.Get("Forwarded"), ""},
		{"X-Drop-Me (hop-by-hop)", s.Header.Get("X-Drop-Me"), ""},
		{tokenHeader, s.Header.Get(tokenHeader), ""},
		{"Accept-Encoding (passed as is)", s.Header.Get("Accept-Encoding"), "gzip"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("upstream saw %s %q, want %q", c.what, c.got, c.want)
		}
	}
	e.res.waitDone(t, 1)
}

func TestErrorPages(t *testing.T) {
	refused := func() string { // an address nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		setup      func(e *testEnv)
		accept     string
		wantStatus int
		wantType   string
		wantText   string
		wantDone   int64
	}{
		{
			name:       "nothing listening",
			setup:      func(e *testEnv) { e.res.set(idA, Route{Addr: refused, Public: true}) },
			wantStatus: 502, wantType: "text/plain", wantDone: 1,
			wantText: "502 Bad Gateway: nothing is listening on port 5173 in sandbox " + idA + " yet: start your dev server there, listening on 0.0.0.0 (e.g. `npm run dev -- --host`)\n",
		},
		{
			name:       "nothing listening, browser",
			setup:      func(e *testEnv) { e.res.set(idA, Route{Addr: refused, Public: true}) },
			accept:     "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
			wantStatus: 502, wantType: "text/html", wantDone: 1,
			wantText: "<code>npm run dev -- --host</code>",
		},
		{
			name: "dial timeout",
			setup: func(e *testEnv) {
				e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
				e.p.pool.dial = (&net.Dialer{Timeout: time.Nanosecond}).DialContext
			},
			wantStatus: 504, wantType: "text/plain", wantDone: 1, wantText: "did not accept a connection in time",
		},
		{
			name:       "unknown sandbox",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("no record: %w", errdefs.ErrNotFound)) },
			wantStatus: 404, wantType: "text/plain", wantText: "no sandbox " + idA,
		},
		{
			name:       "port not exposed",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("port: %w", errdefs.ErrPermissionDenied)) },
			wantStatus: 403, wantType: "text/plain", wantText: "port 5173 is not exposed; `runtools sandbox expose " + idA + " 5173`",
		},
		{
			name:       "starting",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("sandbox is restoring: %w", errdefs.ErrUnavailable)) },
			wantStatus: 503, wantType: "text/plain", wantText: "sandbox " + idA + " is starting or not running: sandbox is restoring: unavailable",
		},
		{
			name:       "stopped",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("sandbox is stopped: %w", errdefs.ErrConflict)) },
			wantStatus: 503, wantType: "text/plain", wantText: "sandbox is stopped",
		},
		{
			name:       "other resolver error",
			setup:      func(e *testEnv) { e.res.fail(idA, errors.New("disk on fire at /secret/path")) },
			wantStatus: 502, wantType: "text/plain", wantText: "could not be reached",
		},
		{
			name: "upstream hangs up",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := http.NewResponseController(w).Hijack()
				conn.Close()
			},
			setup:      func(e *testEnv) { e.res.set(idA, Route{Addr: e.up.addr(), Public: true}) },
			wantStatus: 502, wantType: "text/plain", wantDone: 1, wantText: "failed before it answered",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = echo
			if tt.handler != nil {
				h = tt.handler
			}
			e := newEnv(t, h)
			tt.setup(e)
			var headers []string
			if tt.accept != "" {
				headers = append(headers, "Accept: "+tt.accept)
			}
			resp, body := e.get(host(idA, 5173), "/", headers...)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantText) {
				t.Errorf("status %d %q, want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantText)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if strings.Contains(body, "/secret/path") || strings.Contains(body, "127.0.0.1") {
				t.Errorf("the page shows internals: %q", body)
			}
			e.res.waitDone(t, tt.wantDone)
		})
	}
}

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"text/plain, text/html;q=0.5", false},
		{"text/html;q=0", false},
		{"application/json", false},
		{"TEXT/HTML ; q=0.7", true},
	}
	for _, tt := range tests {
		if got := prefersHTML([]string{tt.accept}); got != tt.want {
			t.Errorf("prefersHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

// TestDoneOnAbortAndDisconnect checks Done in the paths that do not end
// with a normal response: an upstream that dies mid-body (ReverseProxy
// panics with http.ErrAbortHandler) and a client that goes away mid-stream.
func TestDoneOnAbortAndDisconnect(t *testing.T) {
	t.Run("upstream dies mid-body", func(t *testing.T) {
		e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			w.Write([]byte("only ten b"))
			http.NewResponseController(w).Flush()
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
		}))
		e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
		resp, err := e.plain.Do(e.request(http.MethodGet, host(idA, 5173), "/", nil))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Error("the truncated body read without error")
		}
		e.res.waitDone(t, 1)
	})
	t.Run("client goes away", func(t *testing.T) {
		started := make(chan struct{})
		e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			http.NewResponseController(w).Flush()
			close(started)
			<-r.Context().Done()
		}))
		e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
		ctx, cancel := context.WithCancel(context.Background())
		req := e.request(http.MethodGet, host(idA, 5173), "/", nil).WithContext(ctx)
		resp, err := e.plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		<-started
		cancel()
		resp.Body.Close()
		e.res.waitDone(t, 1)
	})
	t.Run("client goes away while resolving", func(t *testing.T) {
		e := newEnv(t, echo)
		slow := &slowResolver{fakeResolver: e.res, entered: make(chan struct{})}
		e.p.resolver = slow
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-slow.entered; cancel() }()
		_, err := e.plain.Do(e.request(http.MethodGet, host(idA, 5173), "/", nil).WithContext(ctx))
		if err == nil {
			t.Fatal("request succeeded")
		}
		e.res.waitDone(t, 1)
		e.up.assertUntouched(t)
	})
}

// slowResolver resolves once the request's context has ended, like a wake
// the client did not wait for.
type slowResolver struct {
	*fakeResolver
	entered chan struct{}
}

func (s *slowResolver) Resolve(ctx context.Context, id string, port int) (Route, error) {
	close(s.entered)
	<-ctx.Done()
	return s.fakeResolver.Resolve(ctx, id, port)
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t, echo)
	e.get(host(idA, 5173), "/?"+linkParam+"=secret-value", tokenHeader+": "+tokenA)
	e.get(host(idA, agentPort), "/")
	e.res.waitDone(t, 1)
	logs := e.logs.String()
	for _, want := range []string{
		"msg=request component=proxy sandbox=" + idA + " port=5173 method=GET status=200 duration=",
		"msg=request component=proxy sandbox=" + idA + " port=49983 method=GET status=403 duration=",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "secret-value") || strings.Contains(logs, tokenA) {
		t.Errorf("log shows a credential:\n%s", logs)
	}
}
