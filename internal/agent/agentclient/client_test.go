package agentclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		want   error
		msg    string
	}{
		{404, `{"code":"not_found","message":"stat /x: no such file"}`, errdefs.ErrNotFound, "not found: stat /x: no such file"},
		{409, `{"code":"conflict","message":"busy"}`, errdefs.ErrConflict, "conflict: busy"},
		{500, `{"code":"resource_exhausted","message":"disk full"}`, errdefs.ErrResourceExhausted, "resource exhausted: disk full"},
		{401, `{"code":"unauthenticated","message":"no"}`, errdefs.ErrUnauthenticated, ""},
		{400, `not json`, errdefs.ErrInvalidArgument, "invalid argument: not json"},
		{503, ``, errdefs.ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			c := agentclient.New(srv.URL+"/", "tok")
			defer c.Close()
			_, err := c.Stat(context.Background(), "/x")
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message = %q, want %q", err.Error(), tt.msg)
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprint(w, `{"code":"internal","message":"boom"}`)
	}))
	defer srv.Close()
	c := agentclient.New(srv.URL, "tok")
	defer c.Close()
	_, err := c.Stat(context.Background(), "/x")
	if err == nil || !strings.Contains(err.Error(), "boom") || errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("internal error = %v", err)
	}
}

func TestConnectionFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	c := agentclient.New("http://"+addr, "tok")
	defer c.Close()
	if _, err := c.Health(context.Background()); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("refused connection: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.WaitReady(ctx, 5*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReady with nobody listening: %v", err)
	}
}

// freeAddr returns a loopback address nothing listens on (at the moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestWaitReadyWhileBooting(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	srv, err := agent.NewServer(agent.Config{Token: "tok"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			done <- err
			return
		}
		done <- srv.Serve(ctx, ln)
	}()
	c := agentclient.New("http://"+addr, "tok")
	defer c.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	start := time.Now()
	if err := c.WaitReady(wctx, 2*time.Millisecond); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
		t.Errorf("WaitReady returned after %v", d)
	}
	// A wrong token is not something waiting fixes.
	bad := agentclient.New("http://"+addr, "wrong")
	defer bad.Close()
	if err := bad.WaitReady(wctx, 0); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("WaitReady with a wrong token: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestEventStream checks large lines, and that a stream without an exit
// event is an error.
func TestEventStream(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("z", 3<<20)
	truncate := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		enc.Encode(agentapi.Event{Type: agentapi.EventStart, PID: 42})
		enc.Encode(agentapi.Event{Type: agentapi.EventStdout, Data: []byte(big)})
		if truncate {
			return
		}
		code := 0
		enc.Encode(agentapi.Event{Type: agentapi.EventExit, ExitCode: &code})
	}))
	defer srv.Close()
	c := agentclient.New(srv.URL, "tok")
	defer c.Close()
	var got []agentapi.Event
	err := c.Exec(context.Background(), agentapi.ExecRequest{Cmd: []string{"x"}}, func(ev agentapi.Event) error {
		got = append(got, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].PID != 42 || string(got[1].Data) != big || got[2].Type != agentapi.EventExit {
		t.Errorf("got %d events", len(got))
	}
	truncate = true
	err = c.Exec(context.Background(), agentapi.ExecRequest{Cmd: []string{"x"}}, func(agentapi.Event) error { return nil })
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("stream without exit: %v", err)
	}
}

func TestNoProxyFromEnvironment(t *testing.T) {
	// Not parallel: it sets the process environment. Go never proxies
	// loopback addresses, so the agent must listen on another address.
	ip := nonLoopbackIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(agentapi.Health{OK: true})
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request went through the environment's proxy: %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer proxy.Close()
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	c := agentclient.New(srv.URL, "tok")
	defer c.Close()
	if _, err := c.Health(context.Background()); err != nil {
		t.Errorf("Health with HTTP_PROXY set: %v", err)
	}
}

func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address")
	return ""
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWaitReadyProbeCutShort: a probe whose time runs out just as its dial
// is refused is tried again, not taken for an answer.
func TestWaitReadyProbeCutShort(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(agentapi.Health{})
	}))
	defer srv.Close()
	c := agentclient.New(srv.URL, "tok")
	defer c.Close()
	probes := 0
	c.SetTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if probes++; probes == 1 {
			<-r.Context().Done()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		return http.DefaultTransport.RoundTrip(r)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx, 2*time.Millisecond); err != nil {
		t.Fatalf("WaitReady after a probe cut short: %v", err)
	}
	if probes != 2 {
		t.Errorf("%d probes, want 2", probes)
	}
}
