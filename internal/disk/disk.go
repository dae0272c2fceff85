// Package disk gives each sandbox a durable disk on the host: a sparse
// ext4 image of the sandbox's disk size, loop-mounted, holding the upper
// directory of an overlayfs whose lower is the template's root filesystem.
// gVisor serves the merged tree through its gofer, so what a program in
// the sandbox writes lands on the host's own filesystem, and what it
// fsyncs outlives a crash of the sandbox, of the daemon or of the host.
// The image's size is the sandbox's disk cap.
//
// A sandbox directory holds:
//
//	disk.img   the image (sparse: it takes only what is written)
//	disk/      the image, mounted: upper/ and work/ of the overlay
//	rootfs/    the overlay, mounted: the sandbox's root filesystem
//	lower      the template root filesystem the overlay is on
package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
)

// Names inside a sandbox directory.
const (
	ImageName  = "disk.img"
	mountName  = "disk"
	rootfsName = "rootfs"
	LowerName  = "lower" // the file that names the template root filesystem
)

// Disks makes, mounts and copies sandboxes' durable disks.
type Disks struct {
	blanks string // where blank images of each size are kept
	log    *slog.Logger
	mu     sync.Mutex // serializes making a blank image
}

// New returns Disks keeping its blank images in dir.
func New(dir string, log *slog.Logger) (*Disks, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := CheckHost("durable disks"); err != nil {
		return nil, err
	}
	return &Disks{blanks: dir, log: log.With("component", "disk")}, nil
}

// CheckHost checks the host can make and mount images: it has loop
// devices and mkfs.ext4. what names what needs them, for the error.
func CheckHost(what string) error {
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		return fmt.Errorf("%w: %s need loop devices: %v", errdefs.ErrUnavailable, what, err)
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		return fmt.Errorf("%w: %s need mkfs.ext4 (Debian's e2fsprogs): run `make setup`: %v", errdefs.ErrUnavailable, what, err)
	}
	return nil
}

// RootFS is where the root filesystem of the sandbox whose directory is
// dir is mounted.
func RootFS(dir string) string { return filepath.Join(dir, rootfsName) }

// Lower returns the template root filesystem the disk in dir is on, or ""
// if dir has no durable disk.
func Lower(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, LowerName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Has reports whether dir holds a durable disk.
func Has(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ImageName))
	return err == nil
}

// Create makes a new, empty disk of sizeMB in dir over the template root
// filesystem lower. It does not mount it.
func (d *Disks) Create(ctx context.Context, dir, lower string, sizeMB int) error {
	blank, err := d.blank(ctx, sizeMB)
	if err != nil {
		return err
	}
	if _, err := Copy(filepath.Join(dir, ImageName), blank); err != nil {
		return fmt.Errorf("making the sandbox's disk: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, LowerName), []byte(lower+"\n"), 0o600)
}

// Mount mounts the disk in dir and its overlay, and returns the root
// filesystem. Parts already mounted (after a daemon restart) are kept.
// A disk image waiting in next (a rollback's or a fork's, "" for none)
// first replaces the disk.
func (d *Disks) Mount(dir, next string) (string, error) {
	img, mnt, root := filepath.Join(dir, ImageName), filepath.Join(dir, mountName), RootFS(dir)
	if next != "" {
		if _, err := os.Stat(next); err == nil {
			if err := d.Unmount(dir); err != nil {
				return "", err
			}
			if err := os.Rename(next, img); err != nil {
				return "", fmt.Errorf("putting the saved disk in place: %w", err)
			}
			if err := atomicfile.SyncDir(dir); err != nil {
				return "", err
			}
		}
	}
	lower := Lower(dir)
	if lower == "" {
		return "", fmt.Errorf("%w: the disk in %s names no template root filesystem", errdefs.ErrNotFound, dir)
	}
	if entries, err := os.ReadDir(lower); err != nil || len(entries) == 0 {
		return "", fmt.Errorf("%w: the template root filesystem %s the disk is over is not there (a custom template's version not mounted?): %v", errdefs.ErrUnavailable, lower, err)
	}
	if ok, err := hostfs.Mounted(mnt); err != nil {
		return "", err
	} else if !ok {
		if err := MountImage(img, mnt); err != nil {
			return "", err
		}
	}
	if ok, err := hostfs.Mounted(root); err != nil {
		return "", err
	} else if ok {
		return root, nil
	}
	upper, work := filepath.Join(mnt, "upper"), filepath.Join(mnt, "work")
	for _, p := range []string{upper, work} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", fmt.Errorf("preparing the disk: %w", err)
		}
	}
	if err := hostfs.Overlay(root, []string{lower}, upper, work); err != nil {
		return "", fmt.Errorf("mounting the sandbox's root filesystem: %w", err)
	}
	return root, nil
}

// Unmount unmounts the overlay and the disk in dir; what is written is on
// the image once it returns. It succeeds if nothing is mounted.
func (d *Disks) Unmount(dir string) error {
	for _, p := range []string{RootFS(dir), filepath.Join(dir, mountName)} {
		if err := hostfs.UnmountUnder(p); err != nil {
			return fmt.Errorf("unmounting the sandbox's disk: %w", err)
		}
	}
	return nil
}

// Sync writes what the sandbox wrote on the mounted disk in dir through to
// its image file, so that reading the file sees it; an unmounted disk has
// nothing to write.
func (d *Disks) Sync(dir string) error {
	if err := syncfs(filepath.Join(dir, mountName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Save copies the disk in dir as it is now into dst, a reflink where the
// host's filesystem has them. The sandbox must not be writing: stopped or
// frozen. It returns the bytes copied (0 for a reflink).
func (d *Disks) Save(dir, dst string) (int64, error) {
	if err := syncfs(filepath.Join(dir, mountName)); err != nil {
		return 0, err
	}
	return Copy(dst, filepath.Join(dir, ImageName))
}

// Read mounts the disk image at image read-only at mnt and calls fn with
// the upper directory of its overlay: what the sandbox wrote.
func (d *Disks) Read(image, mnt string, fn func(upper string) error) error {
	if err := mountImageRO(image, mnt); err != nil {
		return err
	}
	defer func() {
		_ = hostfs.UnmountUnder(mnt)
		_ = os.Remove(mnt)
	}()
	return fn(filepath.Join(mnt, "upper"))
}

// blank returns an empty ext4 image of sizeMB, making it the first time.
// Its inodes are initialized lazily, so it takes about 1 MB until used.
func (d *Disks) blank(ctx context.Context, sizeMB int) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	path := filepath.Join(d.blanks, "blank-"+strconv.Itoa(sizeMB)+"m.img")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := MakeImage(ctx, path, sizeMB); err != nil {
		return "", fmt.Errorf("making a blank disk: %w", err)
	}
	d.log.Info("made a blank disk image", "size_mb", sizeMB, "path", path)
	return path, nil
}

// MakeImage makes path a new, empty, sparse ext4 image that holds sizeMB
// of files. Its inodes are initialized lazily, so it takes about 1 MB
// until used. It is written next to path and renamed into place.
func MakeImage(ctx context.Context, path string, sizeMB int) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	// ext4 keeps about 6.8% of an image of this size for its inode tables
	// and journal: the image is that much bigger, so that what df shows,
	// and what can be written, is sizeMB.
	err = f.Truncate(int64(sizeMB) * 1068 / 1000 << 20)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		var out []byte
		out, err = exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-m", "0", "-i", "8192", "-L", "runtools",
			"-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", tmp).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("mkfs.ext4: %w: %s", err, out)
		}
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// Remove unmounts the disk in dir and removes the sandbox's whole
// directory. It refuses to remove anything still mounted.
func (d *Disks) Remove(dir string) error {
	if err := d.Unmount(dir); err != nil {
		return err
	}
	for _, p := range []string{RootFS(dir), filepath.Join(dir, mountName)} {
		if ok, err := hostfs.Mounted(p); err != nil || ok {
			return errors.Join(err, fmt.Errorf("%s is still mounted; not removing it", p))
		}
	}
	return os.RemoveAll(dir)
}
