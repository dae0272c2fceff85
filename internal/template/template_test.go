package template

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// fakeBuilder makes a tiny rootfs without mmdebstrap.
type fakeBuilder struct {
	calls   atomic.Int32
	running atomic.Int32
	maxRun  atomic.Int32
	delay   time.Duration
	block   chan struct{} // if set, Build waits for it (or ctx)
	started chan struct{} // if set, receives once Build started
	fail    error
}

func (f *fakeBuilder) Build(ctx context.Context, r Recipe, rootfs string, rep Reporter) error {
	f.calls.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxRun.Load()
		if n <= m || f.maxRun.CompareAndSwap(m, n) {
			break
		}
	}
	if f.started != nil {
		f.started <- struct{}{}
	}
	rep.Step("bootstrapping")
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "os-release"), []byte("ID=fake\n"), 0o644); err != nil {
		return err
	}
	if err := writeFakeInstall(rootfs); err != nil {
		return err
	}
	for _, s := range r.Steps {
		rep.Step(s.Name)
		fmt.Fprintf(rep, "running %s\n", s.Name)
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.fail != nil {
		for i := range 60 {
			fmt.Fprintf(rep, "E: output line %d\r\n", i)
		}
		return f.fail
	}
	return nil
}

func testRecipes() []Recipe {
	return []Recipe{{
		Name:        "tiny",
		Aliases:     []string{"tiny-ubuntu"},
		Description: "fake",
		Suite:       "bookworm",
		Packages:    []string{"busybox"},
		Steps:       []Step{{Name: "installing things", Script: "true"}},
	}}
}

func newTestManager(t *testing.T, dir string, b Builder) *Manager {
	t.Helper()
	m, err := New(Config{Dir: dir, Recipes: testRecipes(), Builder: b}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAliasAndUnknown(t *testing.T) {
	ctx := context.Background()
	m, err := New(Config{Dir: t.TempDir(), Builder: &fakeBuilder{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Names(); len(got) != 3 || got[0] != "base" || got[1] != "desktop" || got[2] != "code" {
		t.Fatalf("Names() = %v", got)
	}
	if info, err := m.Get(ctx, "desktop-ubuntu"); err != nil || info.Name != "desktop" || !info.Desktop || info.MemoryMB != 2048 {
		t.Fatalf("desktop-ubuntu: %+v, %v", info, err)
	}
	info, err := m.Get(ctx, "base-ubuntu")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "base" || info.Status != StatusMissing || !strings.Contains(info.Description, "Debian 12") {
		t.Fatalf("Get(base-ubuntu) = %+v", info)
	}
	for _, call := range []func() error{
		func() error { _, err := m.Get(ctx, "x"); return err },
		func() error { _, err := m.Resolve(ctx, "x"); return err },
		func() error { _, err := m.Build(ctx, "x", nil); return err },
	} {
		err := call()
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatalf("unknown template: got %v, want ErrNotFound", err)
		}
		want := `unknown template "x"; available: base, base-ubuntu (alias of base)`
		if !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("message %q, want prefix %q", err, want)
		}
	}
}

func TestBuildResolveAndNoop(t *testing.T) {
	ctx := context.Background()
	fb := &fakeBuilder{}
	m := newTestManager(t, t.TempDir(), fb)

	_, err := m.Resolve(ctx, "tiny")
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "runtools template build tiny") {
		t.Fatalf("Resolve before build: %v", err)
	}

	var events []Progress
	info, err := m.Build(ctx, "tiny-ubuntu", func(p Progress) { events = append(events, p) })
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != StatusReady || info.Name != "tiny" || info.Size <= 0 || info.BuiltAt.IsZero() || info.Recipe != testRecipes()[0].Hash() {
		t.Fatalf("after build: %+v", info)
	}
	if !filepath.IsAbs(info.RootFS) || filepath.Base(filepath.Dir(info.RootFS)) != "tiny-"+info.Recipe[:12] {
		t.Fatalf("rootfs path %q", info.RootFS)
	}
	if _, err := os.Stat(filepath.Join(info.RootFS, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if !last.Done || last.Template != "tiny" {
		t.Fatalf("last progress event %+v", last)
	}
	var sawStep, sawDetail bool
	for _, e := range events {
		sawStep = sawStep || (e.Step == "installing things" && e.Detail == "")
		sawDetail = sawDetail || e.Detail == "running installing things"
	}
	if !sawStep || !sawDetail {
		t.Fatalf("progress events missing step or detail: %+v", events)
	}

	got, err := m.Resolve(ctx, "tiny-ubuntu")
	if err != nil || got != info.RootFS {
		t.Fatalf("Resolve = %q, %v; want %q", got, err, info.RootFS)
	}

	start := time.Now()
	again, err := m.Build(ctx, "tiny", nil)
	if err != nil || again.RootFS != info.RootFS || fb.calls.Load() != 1 {
		t.Fatalf("second build: %+v %v calls=%d", again, err, fb.calls.Load())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("no-op build took %s", d)
	}

	// A second manager on the same dir (another process) sees it ready.
	other := newTestManager(t, m.dir, &fakeBuilder{})
	list, err := other.List(ctx)
	if err != nil || len(list) != 1 || list[0].Status != StatusReady || list[0].Size != info.Size {
		t.Fatalf("List from another manager: %+v %v", list, err)
	}
}

func TestCrashSafety(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := testRecipes()[0]
	hash := r.Hash()

	// A build killed halfway: its .build dir, and a final dir whose
	// meta.json was never written.
	stale := filepath.Join(dir, ".build-tiny-12345")
	if err := os.MkdirAll(filepath.Join(stale, "rootfs/usr"), 0o755); err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(dir, "tiny-"+hash[:12])
	if err := os.MkdirAll(filepath.Join(half, "rootfs/half-written"), 0o755); err != nil {
		t.Fatal(err)
	}

	fb := &fakeBuilder{}
	m := newTestManager(t, dir, fb)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale build dir not removed by New: %v", err)
	}
	info, err := m.Get(ctx, "tiny")
	if err != nil || info.Status != StatusMissing || info.RootFS != "" {
		t.Fatalf("dir without meta.json: %+v %v", info, err)
	}
	if _, err := m.Resolve(ctx, "tiny"); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Resolve of dir without meta.json: %v", err)
	}

	// meta.json of another recipe in the right place is not ready either.
	if err := os.WriteFile(filepath.Join(half, metaFile), []byte(`{"name":"tiny","recipe":"0000"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if info, _ := m.Get(ctx, "tiny"); info.Status != StatusMissing {
		t.Fatalf("wrong recipe in meta.json: %+v", info)
	}

	// A stale .build dir appearing later is cleaned by the next Build.
	if err := os.MkdirAll(filepath.Join(dir, ".build-tiny-999"), 0o755); err != nil {
		t.Fatal(err)
	}
	info, err = m.Build(ctx, "tiny", nil)
	if err != nil || info.Status != StatusReady {
		t.Fatalf("build over leftovers: %+v %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(info.RootFS, "half-written")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("incomplete dir was not replaced")
	}
	assertNoBuildDirs(t, dir)
}

func assertNoBuildDirs(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, buildPrefix+"*"))
	if len(left) > 0 {
		t.Fatalf("build dirs left: %v", left)
	}
}

func TestBuildFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fb := &fakeBuilder{fail: errors.New("exit status 100")}
	m := newTestManager(t, dir, fb)
	_, err := m.Build(ctx, "tiny", nil)
	if err == nil {
		t.Fatal("build succeeded")
	}
	msg := err.Error()
	for _, want := range []string{`building template "tiny"`, "installing things: exit status 100", "E: output line 59", "E: output line 10"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "E: output line 9\n") {
		t.Errorf("error quotes more than %d lines", tailLines)
	}
	assertNoBuildDirs(t, dir)

	info, _ := m.Get(ctx, "tiny")
	if info.Status != StatusFailed || !strings.Contains(info.Error, "exit status 100") {
		t.Fatalf("after failure: %+v", info)
	}
	if _, err := m.Resolve(ctx, "tiny"); !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "failed to build") {
		t.Fatalf("Resolve after failure: %v", err)
	}

	fb.fail = nil
	if info, err := m.Build(ctx, "tiny", nil); err != nil || info.Status != StatusReady || info.Error != "" {
		t.Fatalf("rebuild: %+v %v", info, err)
	}
}

func TestBuildCanceled(t *testing.T) {
	dir := t.TempDir()
	fb := &fakeBuilder{block: make(chan struct{}), started: make(chan struct{}, 1)}
	m := newTestManager(t, dir, fb)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := m.Build(ctx, "tiny", nil); errc <- err }()
	<-fb.started
	if info, _ := m.Get(context.Background(), "tiny"); info.Status != StatusBuilding {
		t.Fatalf("while building: %+v", info)
	}
	if _, err := m.Resolve(context.Background(), "tiny"); !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "being built") {
		t.Fatalf("Resolve while building: %v", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled build: %v", err)
	}
	assertNoBuildDirs(t, dir)
	if info, _ := m.Get(context.Background(), "tiny"); info.Status != StatusMissing {
		t.Fatalf("a canceled build is not a failure: %+v", info)
	}
}

func TestConcurrentBuildsSerialized(t *testing.T) {
	dir := t.TempDir()
	fb := &fakeBuilder{delay: 300 * time.Millisecond}
	// Two managers on one dir stand for two processes; each builds twice.
	managers := []*Manager{newTestManager(t, dir, fb), newTestManager(t, dir, fb)}
	var wg sync.WaitGroup
	infos := make([]Info, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			infos[i], errs[i] = managers[i%2].Build(context.Background(), "tiny", nil)
		}()
	}
	wg.Wait()
	for i := range 4 {
		if errs[i] != nil || infos[i].Status != StatusReady || infos[i].RootFS != infos[0].RootFS {
			t.Fatalf("build %d: %+v %v", i, infos[i], errs[i])
		}
	}
	if fb.calls.Load() != 1 || fb.maxRun.Load() != 1 {
		t.Fatalf("builder ran %d times, %d at once; want once", fb.calls.Load(), fb.maxRun.Load())
	}
}

func TestBuildWaitsForLockHolder(t *testing.T) {
	dir := t.TempDir()
	fb := &fakeBuilder{}
	m := newTestManager(t, dir, fb)
	// Another process holds the lock.
	l, ok, err := tryLock(m.lockPath("tiny"))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if info, _ := m.Get(context.Background(), "tiny"); info.Status != StatusBuilding {
		t.Fatalf("lock held: %+v", info)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var waited bool
	_, err = m.Build(ctx, "tiny", func(p Progress) { waited = waited || strings.HasPrefix(p.Step, "waiting") })
	if !errors.Is(err, context.DeadlineExceeded) || !waited || fb.calls.Load() != 0 {
		t.Fatalf("build while locked: %v waited=%v calls=%d", err, waited, fb.calls.Load())
	}
	l.Unlock()
	if _, err := m.Build(context.Background(), "tiny", nil); err != nil || fb.calls.Load() != 1 {
		t.Fatalf("build after unlock: %v calls=%d", err, fb.calls.Load())
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newTestManager(t, dir, &fakeBuilder{})
	info, err := m.Build(ctx, "tiny", nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "rootfs/bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := mk("tiny-0123456789ab")
	used := mk("tiny-ba9876543210")
	gone := mk("removed-0123456789ab")
	unrelated := mk("notes")
	err = m.Prune(ctx, func(rootfs string) bool { return rootfs == filepath.Join(used, "rootfs") })
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, gone} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not pruned", p)
		}
	}
	for _, p := range []string{used, unrelated, info.RootFS} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s pruned: %v", p, err)
		}
	}
}
