package integration

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestLifetime: a sandbox's timeout destroys it (its record kept, with the
// reason timeout, after a timeout-warning event), or pauses it with
// --on-timeout pause; both fire across a daemon restart, from the
// deadlines in the records; the paused TTL then destroys the paused one.
// Labels are set at create and filter the list, from the CLI and the API.
func TestLifetime(t *testing.T) {
	s := startServer(t, "--paused-ttl", "10s")
	ctx := ctxT(t, 3*time.Minute)
	out, stderr, code := s.cli(t, "", "sandbox", "create", "-q", "--label", "suite=lifetime", "--label", "kind=destroy", "--timeout", "6s")
	if code != 0 {
		t.Fatalf("create from the CLI: %d %s", code, stderr)
	}
	doomed := strings.TrimSpace(out)
	t.Cleanup(func() { _ = s.client().Destroy(ctxT(t, time.Minute), doomed) })
	paused := create(t, s, client.CreateRequest{Labels: map[string]string{"suite": "lifetime", "kind": "pause"}, Timeout: 6, OnTimeout: "pause"})
	kept := create(t, s, client.CreateRequest{Labels: map[string]string{"suite": "other"}})
	if paused.TimeoutAt == nil || paused.OnTimeout != "pause" || paused.Labels["kind"] != "pause" {
		t.Errorf("created: timeout_at %v on_timeout %q labels %v", paused.TimeoutAt, paused.OnTimeout, paused.Labels)
	}

	list, err := s.client().List(ctx, client.WithLabel("suite", "lifetime"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sb := range list {
		ids = append(ids, sb.ID)
	}
	slices.Sort(ids)
	want := []string{doomed, paused.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("list --label suite=lifetime: %v, want %v", ids, want)
	}
	if out, _, _ := s.cli(t, "", "sandbox", "list", "--label", "kind=pause"); !strings.Contains(out, paused.ID) || strings.Contains(out, doomed) || !strings.Contains(out, "pause in") {
		t.Errorf("sandbox list --label kind=pause:\n%s", out)
	}

	// The daemon is away when both timeouts run out.
	s.stop()
	time.Sleep(7 * time.Second)
	start := time.Now()
	s.start()
	gone := waitState(t, s, doomed, client.StateDestroyed, 15*time.Second)
	if gone.StopReason != "timeout" || gone.Labels["kind"] != "destroy" {
		t.Errorf("destroyed by its timeout: reason %q, labels %v", gone.StopReason, gone.Labels)
	}
	evs, err := s.client().Events(ctx, doomed)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e client.SandboxEvent) bool { return e.Why == "timeout-warning" }) {
		t.Errorf("no timeout-warning among the events: %+v", evs)
	}
	got := waitState(t, s, paused.ID, client.StatePaused, 15*time.Second)
	t.Logf("both timeouts fired %v after the restart", time.Since(start).Round(time.Millisecond))
	if got.TimeoutAt != nil || got.PausedTTLAt == nil {
		t.Errorf("paused by its timeout: timeout_at %v paused_ttl_at %v", got.TimeoutAt, got.PausedTTLAt)
	}

	// The paused TTL (10 s) destroys it; the other sandbox stays.
	gone = waitState(t, s, paused.ID, client.StateDestroyed, 25*time.Second)
	if gone.StopReason != "paused_ttl" {
		t.Errorf("destroyed by the paused TTL: reason %q", gone.StopReason)
	}
	if sb, err := s.client().Get(ctx, kept.ID); err != nil || sb.State != client.StateRunning || sb.TimeoutAt != nil {
		t.Errorf("the sandbox without a timeout: %+v %v", sb, err)
	}
}
