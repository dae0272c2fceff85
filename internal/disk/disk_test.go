package disk

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/runtools/runtools/internal/hostfs"
)

// newDisks makes Disks in a temporary directory, as root with loop
// devices only.
func newDisks(t *testing.T) (*Disks, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("durable disks need root")
	}
	dir := t.TempDir()
	d, err := New(filepath.Join(dir, "blanks"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skip(err)
	}
	lower := filepath.Join(dir, "lower")
	for _, p := range []string{"usr/bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(lower, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "etc/template"), []byte("t"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d, lower
}

// mounted makes a sandbox directory with a new disk of sizeMB over lower,
// mounted; it is removed when the test ends.
func mounted(t *testing.T, d *Disks, lower string, sizeMB int) (sb, root string) {
	t.Helper()
	sb = filepath.Join(t.TempDir(), "sandbox-x")
	if err := os.MkdirAll(sb, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(context.Background(), sb, lower, sizeMB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Remove(sb) })
	root, err := d.Mount(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	return sb, root
}

func TestDiskKeepsWritesOverItsTemplate(t *testing.T) {
	d, lower := newDisks(t)
	sb, root := mounted(t, d, lower, 64)
	var err error
	if b, err := os.ReadFile(filepath.Join(root, "etc/template")); err != nil || string(b) != "t" {
		t.Fatalf("the template through the disk: %q %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/template"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Mount again is a no-op; unmount, mount: the write is there, the
	// template untouched.
	if _, err := d.Mount(sb, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.Unmount(sb); err != nil {
		t.Fatal(err)
	}
	if root, err = d.Mount(sb, ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/template")); string(b) != "changed" {
		t.Errorf("after a remount: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(lower, "etc/template")); string(b) != "t" {
		t.Errorf("the template was written: %q", b)
	}
	if used, err := d.Used(sb); err != nil || used <= 0 {
		t.Errorf("used %d %v", used, err)
	}
	// A saved copy holds the write, read from its upper directory.
	saved := filepath.Join(t.TempDir(), "copy.img")
	if _, err := d.Save(sb, saved); err != nil {
		t.Fatal(err)
	}
	err = d.Read(saved, filepath.Join(t.TempDir(), "mnt"), func(upper string) error {
		b, err := os.ReadFile(filepath.Join(upper, "etc/template"))
		if string(b) != "changed" {
			t.Errorf("the copy's upper: %q %v", b, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(sb); err != nil {
		t.Fatal(err)
	}
	if ok, _ := hostfs.Mounted(root); ok {
		t.Error("still mounted after Remove")
	}
}

func TestDiskCapIsENOSPC(t *testing.T) {
	d, lower := newDisks(t)
	_, root := mounted(t, d, lower, 32)
	f, err := os.Create(filepath.Join(root, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ {
		_, werr = f.Write(buf)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if werr == nil {
		t.Fatal("64 MB fit on a 32 MB disk")
	}
}

func TestCopyKeepsHoles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	f, _ := os.Create(src)
	f.Truncate(64 << 20)
	f.WriteAt([]byte("data"), 32<<20)
	f.Close()
	if _, err := Copy(filepath.Join(dir, "dst"), src); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "dst"))
	if len(got) != 64<<20 || string(got[32<<20:32<<20+4]) != "data" {
		t.Fatalf("copy: %d bytes", len(got))
	}
	if used, _ := hostfs.DiskUsage(filepath.Join(dir, "dst")); used > 1<<20 {
		t.Errorf("the copy of a sparse file takes %d bytes", used)
	}
}

// TestCopyAcrossFilesystems: a copy to another filesystem (a tmpfs) is
// made through a buffer.
func TestCopyAcrossFilesystems(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("across"), 0o600)
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skip(err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	if _, err := Copy(filepath.Join(mnt, "dst"), src); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(mnt, "dst")); string(b) != "across" {
		t.Errorf("copied %q", b)
	}
}
