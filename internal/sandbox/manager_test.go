package sandbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// fakeRuntime records sandboxes, and the spec last started; startErr
// makes Start fail.
type fakeRuntime struct {
	mu       sync.Mutex
	running  map[string]bool
	startErr error
	last     sandbox.RunSpec
}

func (f *fakeRuntime) Start(_ context.Context, s sandbox.RunSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = s
	if f.startErr != nil {
		return f.startErr
	}
	f.running[s.ID] = true
	return nil
}
func (f *fakeRuntime) Destroy(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.running, id)
	return nil
}
func (f *fakeRuntime) Wait(ctx context.Context, id string) (sandbox.Exit, error) {
	<-ctx.Done()
	return sandbox.Exit{}, ctx.Err()
}
func (f *fakeRuntime) List(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.running {
		out = append(out, id)
	}
	return out, nil
}
func (f *fakeRuntime) Running(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running[id], nil
}

type fakeNetwork struct {
	mu    sync.Mutex
	nss   map[string]bool
	first netip.Addr // the first address to hand out; default 10.9.0.2
}

func (f *fakeNetwork) Allocate(used []netip.Addr) (netip.Addr, error) {
	a := netip.MustParseAddr("10.9.0.2")
	if f.first.IsValid() {
		a = f.first
	}
	for {
		taken := false
		for _, u := range used {
			taken = taken || u == a
		}
		if !taken {
			return a, nil
		}
		a = a.Next()
	}
}
func (f *fakeNetwork) Setup(_ context.Context, sb *sandbox.Sandbox) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nss[sb.ID] = true
	return "/var/run/netns/" + sb.ID, nil
}
func (f *fakeNetwork) Apply(context.Context, *sandbox.Sandbox) error { return nil }
func (f *fakeNetwork) Teardown(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.nss, id)
	return nil
}
func (f *fakeNetwork) List(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.nss {
		out = append(out, id)
	}
	return out, nil
}
func (f *fakeNetwork) DNS() []netip.Addr { return nil }

type fakeTemplates struct{}

func (fakeTemplates) Resolve(_ context.Context, _, name string) (sandbox.Template, error) {
	if name != "base" {
		return sandbox.Template{}, errors.New("unknown template")
	}
	return sandbox.Template{Name: "base", RootFS: "/nonexistent/rootfs"}, nil
}

type env struct {
	mgr *sandbox.Manager
	rt  *fakeRuntime
	net *fakeNetwork
	st  *store.Store
	dir string
}

// onPostgres, while TestManagerOnPostgres runs, is the server newEnv's
// stores are PostgreSQL databases on; otherwise they are SQLite files.
var onPostgres *pgtest.Server

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	var st *store.Store
	var err error
	if onPostgres != nil {
		st, err = store.OpenPostgres(ctx, onPostgres.NewDatabase(t))
	} else {
		st, err = store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateTeam(ctx, auth.Team{ID: "team-a", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e := &env{rt: &fakeRuntime{running: map[string]bool{}}, net: &fakeNetwork{nss: map[string]bool{}}, st: st, dir: t.TempDir()}
	e.mgr, err = sandbox.NewManager(sandbox.Config{Dir: e.dir, AgentBinary: "/bin/true", ReadyTimeout: 200 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)), e.rt, e.net, fakeTemplates{}, st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.mgr.Shutdown)
	return e
}

func (e *env) leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	rts, _ := e.rt.List(context.Background())
	nss, _ := e.net.List(context.Background())
	entries, _ := os.ReadDir(e.dir)
	out = append(out, rts...)
	out = append(out, nss...)
	for _, d := range entries {
		out = append(out, d.Name())
	}
	return out
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	for name, breakIt := range map[string]func(*env){
		"runtime fails":       func(e *env) { e.rt.startErr = errors.New("runsc exploded") },
		"agent never answers": func(*env) {},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			breakIt(e)
			_, err := e.mgr.Create(context.Background(), "team-a", sandbox.CreateOptions{Name: "x"})
			if err == nil {
				t.Fatal("create succeeded")
			}
			if left := e.leftovers(t); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			all, _ := e.st.ListSandboxes(context.Background(), "team-a", true)
			if len(all) != 1 || all[0].State != sandbox.Destroyed || !strings.HasPrefix(all[0].StopReason, sandbox.ReasonCreateFail) {
				t.Errorf("record after failed create: %+v", all[0])
			}
			// The name is free again.
			if got, _ := e.st.ListSandboxes(context.Background(), "team-a", false); len(got) != 0 {
				t.Errorf("live records: %d", len(got))
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	for _, o := range []sandbox.CreateOptions{
		{Name: "UPPER"}, {Name: "sandbox-abcdefgh"}, {VCPUs: 9}, {VCPUs: -1}, {MemoryMB: 64},
		{MemoryMB: 1 << 20}, {Env: map[string]string{"1BAD": "x"}}, {Env: map[string]string{"A=B": "x"}},
	} {
		if _, err := e.mgr.Create(context.Background(), "team-a", o); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%+v: %v, want invalid argument", o, err)
		}
	}
	if left := e.leftovers(t); len(left) > 0 {
		t.Errorf("validation left %v", left)
	}
}

func TestRecoverSettlesEverything(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(state sandbox.State, ip string) *sandbox.Sandbox {
		sb := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", Template: "base", State: state, IP: netip.MustParseAddr(ip), Secret: "s", CreatedAt: time.Now()}
		if err := e.st.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		e.rt.running[sb.ID], e.net.nss[sb.ID] = true, true
		os.MkdirAll(filepath.Join(e.dir, sb.ID), 0o700)
		return sb
	}
	creating := mk(sandbox.Creating, "10.9.0.2")
	stopping := mk(sandbox.Stopping, "10.9.0.3")
	lost := mk(sandbox.Running, "10.9.0.4") // its agent does not answer
	orphan := sandbox.NewID()
	e.rt.running[orphan], e.net.nss[orphan] = true, true
	os.MkdirAll(filepath.Join(e.dir, orphan), 0o700)

	if err := e.mgr.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	// What never ran, or was being destroyed, is destroyed; what ran and
	// died is kept, stopped with the reason, its directory (its disk) there.
	for sb, want := range map[*sandbox.Sandbox]struct {
		state  sandbox.State
		reason string
	}{
		creating: {sandbox.Destroyed, sandbox.ReasonInterrupted},
		stopping: {sandbox.Destroyed, sandbox.ReasonDestroyed},
		lost:     {sandbox.Stopped, sandbox.ReasonCrashed},
	} {
		got, _ := e.st.GetSandbox(ctx, sb.ID)
		if got.State != want.state || !strings.HasPrefix(got.StopReason, want.reason) {
			t.Errorf("%s was %s: now %s %q, want %s %s", sb.ID, sb.State, got.State, got.StopReason, want.state, want.reason)
		}
	}
	if left := e.leftovers(t); len(left) != 1 || left[0] != lost.ID {
		t.Errorf("left behind: %v, want only the directory of %s", left, lost.ID)
	}
}

// TestRecoverAfterReboot: a sandbox that was running when the host went
// down is kept, stopped, with reason "host restarted".
func TestRecoverAfterReboot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sb := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", Template: "base", State: sandbox.Running, IP: netip.MustParseAddr("10.9.0.5"), Secret: "s", CreatedAt: time.Now()}
	if err := e.st.InsertSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(e.dir), "boot-id"), []byte("an earlier boot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := e.st.GetSandbox(ctx, sb.ID)
	if got.State != sandbox.Stopped || !strings.HasPrefix(got.StopReason, sandbox.ReasonHostRestart) {
		t.Errorf("after a reboot: %s %q, want stopped %q", got.State, got.StopReason, sandbox.ReasonHostRestart)
	}
}
