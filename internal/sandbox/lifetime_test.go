package sandbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// checkpointingRuntime is a fakeRuntime that can pause: its checkpoint
// writes an image file and stops the sandbox.
type checkpointingRuntime struct{ *fakeRuntime }

func (r checkpointingRuntime) Checkpoint(_ context.Context, id, dir string, leaveRunning bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !leaveRunning {
		_ = r.Destroy(context.Background(), id)
	}
	return os.WriteFile(filepath.Join(dir, "checkpoint.img"), []byte("image"), 0o600)
}

func (r checkpointingRuntime) Restore(ctx context.Context, spec sandbox.RunSpec, _, _ string) error {
	return r.Start(ctx, spec)
}

// newManager makes another manager over e's store, runtime and network,
// as a daemon restart does, with the clock and cfg's lifetime settings.
func (e *env) newManager(t *testing.T, clock *fakeClock, cfg sandbox.Config) *sandbox.Manager {
	t.Helper()
	cfg.Dir, cfg.AgentBinary, cfg.ReadyTimeout = e.dir, "/bin/true", 200*time.Millisecond
	m, err := sandbox.NewManager(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		checkpointingRuntime{e.rt}, e.net, fakeTemplates{}, e.st)
	if err != nil {
		t.Fatal(err)
	}
	m.SetClock(clock.now)
	t.Cleanup(m.Shutdown)
	return m
}

// lifetimeEnv is a test environment whose manager, with cfg's lifetime
// settings, runs on a fake clock.
func lifetimeEnv(t *testing.T, cfg sandbox.Config) (*env, *fakeClock, *sandbox.Manager) {
	e := newEnv(t)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return e, clock, e.newManager(t, clock, cfg)
}

// running inserts a running sandbox record (the fake agent never answers
// a create) with a timeout (0: none) and what it does then.
func (e *env) running(t *testing.T, clock *fakeClock, timeout time.Duration, on string) *sandbox.Sandbox {
	t.Helper()
	used, _ := e.st.LiveIPs(context.Background(), "")
	ip, _ := e.net.Allocate(used)
	sb := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", Template: "base", State: sandbox.Running,
		IP: ip, Secret: "s", CreatedAt: clock.now(), OnTimeout: on, Labels: map[string]string{"app": "web"}}
	if timeout > 0 {
		sb.TimeoutAt = clock.now().Add(timeout)
	}
	if err := e.st.InsertSandbox(context.Background(), sb); err != nil {
		t.Fatal(err)
	}
	e.rt.running[sb.ID] = true
	return sb
}

func (e *env) whys(t *testing.T, id string) string {
	t.Helper()
	evs, err := e.st.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Why)
	}
	return strings.Join(out, ",")
}

// TestTimeoutDestroysAcrossRestart: the warning comes a minute before the
// timeout, and the timeout fires in a manager started after the first one
// went away, leaving the record destroyed with the reason timeout.
func TestTimeoutDestroysAcrossRestart(t *testing.T) {
	e, clock, m := lifetimeEnv(t, sandbox.Config{})
	ctx := context.Background()
	sb := e.running(t, clock, 10*time.Minute, sandbox.OnTimeoutDestroy)

	clock.add(8 * time.Minute)
	if err := m.CheckLifetimes(ctx); err != nil {
		t.Fatal(err)
	}
	if w := e.whys(t, sb.ID); strings.Contains(w, sandbox.WhyTimeoutWarning) {
		t.Fatalf("warned 2 minutes before: %s", w)
	}
	clock.add(90 * time.Second)
	for range 2 { // warned once only
		if err := m.CheckLifetimes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if w := e.whys(t, sb.ID); strings.Count(w, sandbox.WhyTimeoutWarning) != 1 {
		t.Fatalf("events after the warning time: %s", w)
	}
	m.Shutdown()

	clock.add(time.Minute)
	m2 := e.newManager(t, clock, sandbox.Config{})
	if err := m2.CheckLifetimes(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.GetSandbox(ctx, sb.ID)
	if got.State != sandbox.Destroyed || got.StopReason != sandbox.ReasonTimeout {
		t.Errorf("after the timeout: %s %q, want destroyed %q", got.State, got.StopReason, sandbox.ReasonTimeout)
	}
	if got.Labels["app"] != "web" {
		t.Errorf("the destroyed record lost its labels: %v", got.Labels)
	}
}

// TestTimeoutExtended: update --timeout moves the deadline from now and
// warns again before the new one.
func TestTimeoutExtended(t *testing.T) {
	e, clock, m := lifetimeEnv(t, sandbox.Config{})
	ctx := context.Background()
	sb := e.running(t, clock, time.Minute, sandbox.OnTimeoutDestroy)
	_ = m.CheckLifetimes(ctx) // warned at once
	clock.add(30 * time.Second)
	got, err := m.SetTimeout(ctx, "team-a", sb.ID, 10*time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	if !got.TimeoutAt.Equal(clock.now().Add(10*time.Minute)) || got.TimeoutWarned || got.OnTimeout != sandbox.OnTimeoutDestroy {
		t.Errorf("extended: %v warned=%v on=%q", got.TimeoutAt, got.TimeoutWarned, got.OnTimeout)
	}
	clock.add(time.Minute)
	_ = m.CheckLifetimes(ctx)
	if got, _ := e.st.GetSandbox(ctx, sb.ID); got.State != sandbox.Running {
		t.Errorf("destroyed at the old deadline: %s", got.State)
	}
	if _, err := m.SetTimeout(ctx, "team-a", sb.ID, -time.Second, ""); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("negative timeout: %v", err)
	}
	if _, err := m.SetTimeout(ctx, "team-a", sb.ID, time.Minute, "explode"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad on_timeout: %v", err)
	}
}

// TestTimeoutPausesThenPausedTTLDestroys: --on-timeout pause pauses; the
// paused TTL then destroys it, counted from the pause.
func TestTimeoutPausesThenPausedTTLDestroys(t *testing.T) {
	e, clock, m := lifetimeEnv(t, sandbox.Config{PausedTTL: time.Hour})
	ctx := context.Background()
	sb := e.running(t, clock, 5*time.Second, sandbox.OnTimeoutPause)
	clock.add(5 * time.Second)
	_ = m.CheckLifetimes(ctx)
	got, _ := e.st.GetSandbox(ctx, sb.ID)
	if got.State != sandbox.Paused || !got.TimeoutAt.IsZero() || !got.PausedAt.Equal(clock.now()) {
		t.Fatalf("after the timeout: %s timeout_at=%v paused_at=%v", got.State, got.TimeoutAt, got.PausedAt)
	}
	if w := e.whys(t, sb.ID); !strings.HasSuffix(w, sandbox.ReasonTimeout) {
		t.Errorf("events: %s, want the pause's reason %s last", w, sandbox.ReasonTimeout)
	}
	if due := m.PausedTTLAt(got); !due.Equal(clock.now().Add(time.Hour)) {
		t.Errorf("paused TTL due at %v", due)
	}
	clock.add(59 * time.Minute)
	_ = m.CheckLifetimes(ctx)
	if got, _ := e.st.GetSandbox(ctx, sb.ID); got.State != sandbox.Paused {
		t.Fatalf("before its paused TTL: %s", got.State)
	}
	clock.add(time.Minute)
	m.Shutdown()
	m2 := e.newManager(t, clock, sandbox.Config{PausedTTL: time.Hour})
	_ = m2.CheckLifetimes(ctx)
	if got, _ := e.st.GetSandbox(ctx, sb.ID); got.State != sandbox.Destroyed || got.StopReason != sandbox.ReasonPausedTTL {
		t.Errorf("after its paused TTL: %s %q", got.State, got.StopReason)
	}
}

// TestPausedKeptWithoutTTL: without --paused-ttl a paused sandbox stays.
func TestPausedKeptWithoutTTL(t *testing.T) {
	e, clock, m := lifetimeEnv(t, sandbox.Config{})
	ctx := context.Background()
	sb := e.running(t, clock, time.Second, sandbox.OnTimeoutPause)
	clock.add(time.Second)
	_ = m.CheckLifetimes(ctx)
	clock.add(365 * 24 * time.Hour)
	_ = m.CheckLifetimes(ctx)
	if got, _ := e.st.GetSandbox(ctx, sb.ID); got.State != sandbox.Paused {
		t.Errorf("a year paused without a TTL: %s", got.State)
	}
}

func TestLabels(t *testing.T) {
	long := strings.Repeat("a", 64)
	many := map[string]string{}
	for i := range 65 {
		many["k"+strings.Repeat("x", i)] = "v"
	}
	for _, bad := range []map[string]string{
		{"": "v"}, {"-a": "v"}, {"a-": "v"}, {long: "v"}, {"a b": "v"}, {"a": long}, {"a": "b c"},
		{"Example.com/a": "v"}, {"/a": "v"}, {"example.com/": "v"}, {"a/b/c": "v"}, many,
	} {
		if err := sandbox.ValidateLabels(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%v: %v, want invalid argument", bad, err)
		}
	}
	good := map[string]string{"app": "web", "team.example.com/owner": "alice_1", "Env": "", "a.b-c_d": "X.y-z"}
	if err := sandbox.ValidateLabels(good); err != nil {
		t.Errorf("%v: %v", good, err)
	}

	e := newEnv(t)
	ctx := context.Background()
	clock := &fakeClock{t: time.Now()}
	m := e.newManager(t, clock, sandbox.Config{})
	a := e.running(t, clock, time.Hour, "")
	b := e.running(t, clock, time.Hour, "")
	if _, err := m.SetLabels(ctx, "team-a", b.ID, map[string]string{"tier": "db"}, []string{"app"}); err != nil {
		t.Fatal(err)
	}
	for want, ids := range map[string][]string{"app=web": {a.ID}, "tier=db": {b.ID}, "": {a.ID, b.ID}, "app=db": nil} {
		filter := map[string]string{}
		if k, v, ok := strings.Cut(want, "="); ok {
			filter[k] = v
		}
		list, err := m.ListFiltered(ctx, "team-a", false, filter)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(ids) {
			t.Errorf("filter %q: %d sandboxes, want %d", want, len(list), len(ids))
		}
	}
	if _, err := m.SetLabels(ctx, "team-a", a.ID, map[string]string{"x": "1"}, []string{"x"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("set and remove the same key: %v", err)
	}
	if _, err := m.ListFiltered(ctx, "team-a", false, map[string]string{"bad key": "v"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("filter with a bad key: %v", err)
	}
}

// TestSnapshotCap: beyond --max-snapshots the oldest unpinned snapshot
// goes; pinned ones stay.
func TestSnapshotCap(t *testing.T) {
	e, clock, m := lifetimeEnv(t, sandbox.Config{MaxSnapshots: 2})
	ctx := context.Background()
	sb := e.running(t, clock, 0, "")
	if _, err := m.Pause(ctx, "team-a", sb.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name string
		pin  bool
	}{{"golden", true}, {"a", false}, {"b", false}, {"c", false}} {
		clock.add(time.Second)
		if _, err := m.TakeSnapshot(ctx, "team-a", sb.ID, s.name, s.pin); err != nil {
			t.Fatalf("snapshot %s: %v", s.name, err)
		}
	}
	list, err := m.Snapshots(ctx, "team-a", sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sn := range list {
		names = append(names, sn.Name)
	}
	if got := strings.Join(names, ","); got != "golden,c" {
		t.Errorf("snapshots kept: %s, want golden,c", got)
	}
}

// TestTimeoutDestroyFinishedByRecover: a daemon that died while a timeout
// destroyed a sandbox finishes it at its next start, with the reason.
func TestTimeoutDestroyFinishedByRecover(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	clock := &fakeClock{t: time.Now()}
	sb := e.running(t, clock, time.Minute, "")
	sb.State, sb.StopReason = sandbox.Stopping, sandbox.ReasonTimeout
	if err := e.st.UpdateSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := e.newManager(t, clock, sandbox.Config{}).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.GetSandbox(ctx, sb.ID); got.State != sandbox.Destroyed || got.StopReason != sandbox.ReasonTimeout {
		t.Errorf("after recovery: %s %q", got.State, got.StopReason)
	}
}
