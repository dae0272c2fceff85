package sandbox_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// answerAsAgent serves, at addr's agent port, an agent that says it is
// healthy and nothing more: enough for a create to finish.
func answerAsAgent(t *testing.T, addr netip.Addr) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr.String(), strconv.Itoa(agentapi.Port)))
	if err != nil {
		t.Skipf("cannot listen as a sandbox's agent: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/exec" { // a command that runs until the caller goes
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// TestNoEntryOutlivesItsSandbox creates and destroys sandboxes, using each
// the ways that make the manager remember it, and checks that it
// remembers none of them afterwards.
func TestNoEntryOutlivesItsSandbox(t *testing.T) {
	e := newEnv(t)
	e.net.first = netip.MustParseAddr("127.77.0.2")
	answerAsAgent(t, e.net.first)
	ctx := context.Background()
	before := e.mgr.Entries()
	for i := range 20 {
		sb, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		s, err := e.mgr.Open(ctx, "team-a", sb.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := e.mgr.Record(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
		hour := time.Hour
		if _, err := e.mgr.SetIdleTimeout(ctx, "team-a", sb.ID, hour); err != nil {
			t.Fatal(err)
		}
		if e.mgr.Entries() == before {
			t.Fatal("the manager keeps nothing of a running sandbox: the test proves nothing")
		}
		if _, err := e.mgr.Destroy(ctx, "team-a", sb.ID); err != nil {
			t.Fatal(err)
		}
		// What comes after a destroy makes no entry either.
		e.mgr.Record(ctx, sb.ID)
		e.mgr.Destroy(ctx, "team-a", sb.ID)
	}
	// A create that fails.
	e.rt.startErr = context.DeadlineExceeded
	if _, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{}); err == nil {
		t.Fatal("a create whose runtime fails succeeded")
	}
	if got := e.mgr.Entries(); got != before {
		t.Errorf("the manager keeps %d sandboxes in memory after they were destroyed, %d before", got, before)
	}
}

// TestCallsEndWithTheSandbox destroys a sandbox while an exec runs in it:
// the exec ends at once, saying why, rather than when its connection
// would time out.
func TestCallsEndWithTheSandbox(t *testing.T) {
	e := newEnv(t)
	e.net.first = netip.MustParseAddr("127.77.0.3")
	answerAsAgent(t, e.net.first)
	ctx := context.Background()
	sb, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() {
		ended <- e.mgr.Exec(ctx, "team-a", sb.ID, agentapi.ExecRequest{Cmd: []string{"sleep", "600"}}, func(agentapi.Event) error { return nil })
	}()
	time.Sleep(200 * time.Millisecond)
	destroyed := time.Now()
	if _, err := e.mgr.Destroy(ctx, "team-a", sb.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "destroyed") {
			t.Errorf("the exec ended with %v, want a conflict that says the sandbox was destroyed", err)
		}
		if d := time.Since(destroyed); d > time.Second {
			t.Errorf("the exec ended %v after the destroy", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the exec still runs 10 s after its sandbox was destroyed")
	}
}
