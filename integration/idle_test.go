package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// waitState polls a sandbox until it reaches want or the deadline passes.
func waitState(t *testing.T, s *server, id, want string, within time.Duration) *client.Sandbox {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		sb, err := s.client().Get(ctxT(t, time.Minute), id)
		if err == nil && sb.State == want {
			return sb
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox %s did not become %s within %v (now %+v, %v)", id, want, within, sb, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIdlePause(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(2)})
	ctx := ctxT(t, 3*time.Minute)

	// An open exec stream is activity, however long it lasts.
	start := time.Now()
	if res := sh(t, sb, "sleep 5; echo done"); string(res.Stdout) != "done\n" {
		t.Fatalf("long exec: %+v", res)
	}
	if got, _ := s.client().Get(ctx, sb.ID); got.State != "running" {
		t.Fatalf("paused during an exec stream (after %v): %s", time.Since(start), got.State)
	}
	// Idle: paused soon after the timeout.
	got := waitState(t, s, sb.ID, "paused", 10*time.Second)
	events, _ := s.client().Events(ctx, got.ID)
	if last := events[len(events)-1]; !strings.Contains(last.Why, "idle") {
		t.Errorf("last event %+v, want an idle pause", last)
	}
	// Use wakes it, and the caller sees no error.
	if res := sh(t, sb, "echo awake"); string(res.Stdout) != "awake\n" {
		t.Errorf("wake by exec: %+v", res)
	}
	// CPU use is activity too.
	if _, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sh", "-c", "while :; do :; done"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(14 * time.Second)
	if got, _ := s.client().Get(ctx, sb.ID); got.State != "running" {
		t.Errorf("a sandbox using CPU was paused: %s", got.State)
	}
	// A changed timeout applies: 0 never pauses.
	if _, err := s.client().SetIdleTimeout(ctx, sb.ID, 0); err != nil {
		t.Fatal(err)
	}
	sh(t, sb, "pkill -f 'while :'; true")
	time.Sleep(4 * time.Second)
	if got, _ := s.client().Get(ctx, sb.ID); got.State != "running" || got.IdleTimeout != 0 {
		t.Errorf("with idle timeout 0: %+v", got)
	}
}
