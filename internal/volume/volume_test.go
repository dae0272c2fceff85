package volume

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
)

// newVolumes makes Volumes in a temporary directory, as root with loop
// devices only.
func newVolumes(t *testing.T) *Volumes {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("volumes need root")
	}
	v, err := New(filepath.Join(t.TempDir(), "volumes"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skip(err)
	}
	return v
}

func TestVolumeLifecycle(t *testing.T) {
	v := newVolumes(t)
	const id = "vol-abcdefabcdef"
	if err := v.Create(context.Background(), id, 32); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Remove(id) })
	mnt, err := v.Mount(id)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(mnt); err != nil || fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("the volume's top: %v %v, want drwxrwxrwt", fi.Mode(), err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := v.Usage(id)
	if err != nil || u.SizeBytes < 28<<20 || u.SizeBytes > 34<<20 || u.UsedBytes <= 0 {
		t.Errorf("usage %+v %v, want about 32 MB", u, err)
	}
	// Full: ENOSPC, not more than the size.
	big := make([]byte, 40<<20)
	if err := os.WriteFile(filepath.Join(mnt, "big"), big, 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("writing 40 MB into 32: %v, want ENOSPC", err)
	}
	_ = os.Remove(filepath.Join(mnt, "big"))
	// Through the files API: a full volume leaves the file as it was, and
	// no partial upload behind.
	d, err := Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write("/f", bytes.NewReader(big), 0o644, false); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Errorf("uploading 40 MB into 32: %v, want resource exhausted", err)
	}
	if entries, err := d.List("/"); err != nil || len(entries) != 2 { // f and lost+found
		t.Errorf("after a failed upload: %+v %v", entries, err)
	}
	if rc, _, err := d.Read("f"); err != nil {
		t.Errorf("reading f: %v", err)
	} else {
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "kept" {
			t.Errorf("f after a failed upload: %q", b)
		}
	}
	d.Close()
	// Mounting again keeps the mount; after an unmount (a host reboot),
	// it mounts again with the data, on one loop device.
	if again, err := v.Mount(id); err != nil || again != mnt {
		t.Fatalf("mount again: %s %v", again, err)
	}
	if err := hostfs.UnmountUnder(mnt); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Mount(id); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "f")); err != nil || string(b) != "kept" {
		t.Errorf("after mounting again: %q %v", b, err)
	}
	if devs := loopsOf(v.path(id, imageName)); len(devs) != 1 {
		t.Errorf("loop devices %v, want one", devs)
	}
	if ids, err := v.List(); err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("list: %v %v", ids, err)
	}
	if err := v.Remove(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(v.path(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the volume's directory after remove: %v", err)
	}
	if devs := loopsOf(v.path(id, imageName)); len(devs) != 0 {
		t.Errorf("loop devices left after remove: %v", devs)
	}
}

// TestVolumeNotMountedTwice: an image whose detached mount is still in use
// is not mounted a second time, which would corrupt it.
func TestVolumeNotMountedTwice(t *testing.T) {
	v := newVolumes(t)
	const id = "vol-twicetwice"
	if err := v.Create(context.Background(), id, 16); err != nil {
		t.Fatal(err)
	}
	mnt, _ := v.Mount(id)
	held, err := os.Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Mount(id); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("mounting an image still attached: %v, want unavailable", err)
	}
	held.Close()
	if _, err := v.Mount(id); err != nil {
		t.Errorf("once let go: %v", err)
	}
	if err := v.Remove(id); err != nil {
		t.Fatal(err)
	}
}

func TestBadIDs(t *testing.T) {
	v := &Volumes{dir: t.TempDir()}
	for _, id := range []string{"", "vol-", "../x", "vol-../..", "sandbox-x", "vol-a/b"} {
		if _, err := v.Mount(id); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Mount(%q): %v", id, err)
		}
		if err := v.Remove(id); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Remove(%q): %v", id, err)
		}
	}
}
