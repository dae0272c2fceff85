package template

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRealBuildBase builds the base template with mmdebstrap into a shared
// cache (RUNTOOLS_TEMPLATE_DIR, else /var/cache/runtools/templates), so only
// the first run on a machine pays for the build, then checks the tools in a
// chroot.
func TestRealBuildBase(t *testing.T) {
	if testing.Short() {
		t.Skip("real build skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("real build needs root")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap not installed")
	}
	dir := os.Getenv("RUNTOOLS_TEMPLATE_DIR")
	if dir == "" {
		dir = "/var/cache/runtools/templates"
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m, err := New(Config{Dir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	start := time.Now()
	info, err := m.Build(ctx, "base-ubuntu", func(p Progress) {
		switch {
		case p.Done:
			t.Logf("[%6.1fs] done: %s", p.Elapsed.Seconds(), p.Detail)
		case p.Detail == "":
			t.Logf("[%6.1fs] %s", p.Elapsed.Seconds(), p.Step)
		case strings.HasPrefix(p.Step, "bootstrapping") || p.Step == "verifying" || strings.HasPrefix(p.Step, "installing"):
			t.Logf("[%6.1fs]   %s", p.Elapsed.Seconds(), p.Detail)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Build took %s; rootfs %s, %d MB, built at %s", time.Since(start).Round(time.Second), info.RootFS, info.Size>>20, info.BuiltAt)
	if info.Status != StatusReady || info.Name != "base" || info.Size < 100<<20 {
		t.Fatalf("info %+v", info)
	}
	if got, err := m.Resolve(ctx, "base"); err != nil || got != info.RootFS {
		t.Fatalf("Resolve = %q, %v", got, err)
	}

	// Read-only, so the shared cached template stays as built.
	var out bytes.Buffer
	err = runChrootReadOnly(ctx, info.RootFS, `
echo "node=$(command -v node) $(node --version)"
echo "npm=$(npm --version)"
echo "bun=$(bun --version)"
git --version
python3 --version
`, &out)
	t.Logf("versions in the chroot:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`node=/usr/local/bin/node v22\.\d+\.\d+`, `npm=\d+\.\d+`, `bun=\d+\.\d+`,
		`git version 2\.`, `Python 3\.\d+`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("chroot output lacks %s", re)
		}
	}

	fs := info.RootFS
	if fi, err := os.Stat(filepath.Join(fs, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("/tmp: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(fs, "root")); err != nil || !fi.IsDir() {
		t.Errorf("/root: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(fs, "etc/resolv.conf")); err != nil || strings.Contains(string(b), "nameserver") {
		t.Errorf("/etc/resolv.conf should be a placeholder: %q %v", b, err)
	}
	if lists, _ := filepath.Glob(filepath.Join(fs, "var/lib/apt/lists/*")); len(lists) > 0 {
		t.Errorf("apt lists not cleaned: %v", lists)
	}
	for _, p := range []string{"root/.npm", "tmp/node-compile-cache"} {
		if _, err := os.Stat(filepath.Join(fs, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("/%s left in the template", p)
		}
	}

	// Cached: a second Build is a no-op.
	start = time.Now()
	if _, err := m.Build(ctx, "base", nil); err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("cached build: %v after %s", err, time.Since(start))
	}

	// A chroot step killed by its context leaves no mount behind.
	sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer scancel()
	if err := runChrootReadOnly(sctx, fs, "sleep 30", &out); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("killed step: %v", err)
	}
	// Only a mount point under fs counts: sandboxes of other packages'
	// tests, running meanwhile, name fs in their overlays' options.
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], fs) {
			t.Fatalf("mount left under %s: %s", fs, line)
		}
	}
}

// TestRealBuildFailureSaysWhy checks that a failing mmdebstrap run ends in
// an error quoting its output and leaves nothing behind.
func TestRealBuildFailureSaysWhy(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root and no -short")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap not installed")
	}
	dir := t.TempDir()
	m, err := New(Config{Dir: dir, Recipes: []Recipe{{
		Name: "broken", Suite: "bookworm", Variant: "minbase",
		Packages: []string{"no-such-package-runtools"},
	}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Build(context.Background(), "broken", nil)
	if err == nil {
		t.Fatal("build with a missing package succeeded")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "bootstrapping Debian 12 (mmdebstrap)") || !strings.Contains(err.Error(), "no-such-package-runtools") {
		t.Errorf("error does not say what went wrong: %v", err)
	}
	assertNoBuildDirs(t, dir)
	if info, _ := m.Get(context.Background(), "broken"); info.Status != StatusFailed {
		t.Errorf("status %q, want failed", info.Status)
	}
}
