package layer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
)

func id(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("overlay mounts need root")
	}
}

func open(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "layers"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostfs.UnmountUnder(dir) })
	base := filepath.Join(dir, "base")
	for _, f := range []string{"etc/issue", "etc/hostname", "bin/sh"} {
		os.MkdirAll(filepath.Join(base, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(base, f), []byte(f), 0o644)
	}
	return s, base
}

// step writes one layer over stack the way a build step does: through a
// writable overlay.
func step(t *testing.T, s *Store, stack Stack, name string, do func(root string)) Layer {
	t.Helper()
	p, err := s.Create(id(name))
	if err != nil {
		t.Fatal(err)
	}
	root, err := s.Writable(stack, p)
	if err != nil {
		p.Abort()
		t.Fatal(err)
	}
	do(root)
	l, err := p.Commit(stack.Top(), name)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetCache(id("key "+name), l.ID); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Cached(id("key " + name)); !ok || got.ID != l.ID {
		t.Fatalf("the cache of %q: %+v, %v", name, got, ok)
	}
	return l
}

func TestStackedLayers(t *testing.T) {
	needRoot(t)
	s, base := open(t)
	stack := Stack{Base: base}
	l1 := step(t, s, stack, "RUN add", func(root string) {
		os.MkdirAll(filepath.Join(root, "srv/app"), 0o755)
		os.WriteFile(filepath.Join(root, "srv/app/main.js"), []byte("v1"), 0o644)
	})
	stack = stack.Push(l1.ID)
	l2 := step(t, s, stack, "RUN change", func(root string) {
		os.Remove(filepath.Join(root, "etc/issue"))
		os.WriteFile(filepath.Join(root, "srv/app/main.js"), []byte("v2"), 0o644)
	})
	stack = stack.Push(l2.ID)
	if l2.Parent != l1.ID || l2.CreatedBy != "RUN change" || l2.Size == 0 {
		t.Errorf("layer record: %+v", l2)
	}
	// The second layer holds only what it changed, with a whiteout.
	if _, err := os.Stat(filepath.Join(s.Path(l2.ID), "etc/hostname")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unchanged file was copied into the layer: %v", err)
	}
	fi, err := os.Lstat(filepath.Join(s.Path(l2.ID), "etc/issue"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Sys().(*syscall.Stat_t).Rdev != 0 {
		t.Errorf("no whiteout for a removed file: %v, %v", fi, err)
	}

	root, err := s.RootFS(stack)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.RootFS(stack); err != nil || again != root {
		t.Errorf("a second RootFS of one stack: %s, %v; want the same mount %s", again, err, root)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "srv/app/main.js")); string(b) != "v2" {
		t.Errorf("main.js through the stack: %q", b)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/issue")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a removed file shows through the stack: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hostname")); string(b) != "etc/hostname" {
		t.Errorf("the base shows through: %q", b)
	}
	if err := os.WriteFile(filepath.Join(root, "x"), nil, 0o644); err == nil {
		t.Error("a shared root filesystem is writable")
	}
	if got, _ := s.RootFS(Stack{Base: base}); got != base {
		t.Errorf("a stack of only a base: %s, want the base itself", got)
	}
}

func TestAbortedAndCrashedLayersLeaveNothing(t *testing.T) {
	needRoot(t)
	s, base := open(t)
	p, err := s.Create(id("RUN fails"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := s.Writable(Stack{Base: base}, p)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "half"), nil, 0o644)
	p.Abort()
	if _, err := s.Get(id("RUN fails")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("an aborted layer: %v", err)
	}

	// A build killed mid-step leaves a mounted, unfinished layer:
	// RemoveUnfinished removes it.
	p, _ = s.Create(id("RUN killed"))
	if _, err := s.Writable(Stack{Base: base}, p); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUnfinished(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		if e.Name() != "empty" {
			t.Errorf("left in the store after a reopen: %s", e.Name())
		}
	}
}

func TestBadLayerIDs(t *testing.T) {
	s, _ := open(t)
	for _, bad := range []string{"", "../etc", "ABC", id("x")[:63]} {
		if _, err := s.Create(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Create(%q): %v", bad, err)
		}
		if _, err := s.Get(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Get(%q): %v", bad, err)
		}
	}
}
