// Package volume keeps the teams' volumes on the host: each a sparse ext4
// image of its size, loop-mounted under the volumes directory from its
// creation (or the server's start) until it is removed, so that
// sandboxes bind-mount it and the API reads and writes its files (Dir).
// The image's size is the volume's limit: a write beyond it fails with
// ENOSPC.
//
// A volume's directory, named by its ID, holds:
//
//	volume.img  the image (sparse: it takes only what is written)
//	mnt/        the image, mounted
//
// Mounts outlive the server: a restarted server finds them in place and
// keeps them. Each loop device clears itself when its mount goes, so none
// is left behind.
package volume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/runtools/runtools/internal/disk"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
	"github.com/runtools/runtools/internal/sandbox"
)

const (
	imageName = "volume.img"
	mountName = "mnt"
	idPrefix  = "vol-"
)

// Volumes makes, mounts and removes volumes in one directory.
type Volumes struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex // serializes mounts and removes
}

var _ sandbox.VolumeHost = (*Volumes)(nil)

// New returns Volumes kept in dir. It fails as unavailable where the host
// has no loop devices or mkfs.ext4.
func New(dir string, log *slog.Logger) (*Volumes, error) {
	if err := disk.CheckHost("volumes"); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	return &Volumes{dir: dir, log: log.With("component", "volume")}, nil
}

func (v *Volumes) path(id string, name ...string) string {
	return filepath.Join(append([]string{v.dir, id}, name...)...)
}

// Create makes an empty volume of sizeMB and mounts it. Its top directory
// is writable by every user, as /tmp is. A failure leaves nothing.
func (v *Volumes) Create(ctx context.Context, id string, sizeMB int) (err error) {
	if err := checkID(id); err != nil {
		return err
	}
	if err := os.Mkdir(v.path(id), 0o700); err != nil {
		return fmt.Errorf("creating the volume's directory: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, v.Remove(id))
		}
	}()
	if err := disk.MakeImage(ctx, v.path(id, imageName), sizeMB); err != nil {
		return fmt.Errorf("making the volume's image: %w", err)
	}
	mnt, err := v.Mount(id)
	if err != nil {
		return err
	}
	return os.Chmod(mnt, os.ModeSticky|0o777)
}

// Mount mounts the volume unless it is mounted (after a restart it is),
// and returns its mount point.
func (v *Volumes) Mount(id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	mnt := v.path(id, mountName)
	if ok, err := hostfs.Mounted(mnt); err != nil || ok {
		return mnt, err
	}
	img := v.path(id, imageName)
	if _, err := os.Stat(img); err != nil {
		return "", fmt.Errorf("%w: the image of volume %s is missing: %v", errdefs.ErrUnavailable, id, err)
	}
	// A second ext4 mount of one image would corrupt it: an image still
	// attached is in use by a mount detached from here (a lazy unmount
	// that a sandbox still holds).
	if devs := loopsOf(img); len(devs) > 0 {
		return "", fmt.Errorf("%w: the image of volume %s is still attached to %s though not mounted at %s (unmounted lazily while a sandbox used it?); stop the sandboxes that use it, or detach it", errdefs.ErrUnavailable, id, strings.Join(devs, ", "), mnt)
	}
	if err := disk.MountImage(img, mnt); err != nil {
		return "", fmt.Errorf("mounting volume %s: %w", id, err)
	}
	v.log.Info("volume mounted", "volume", id, "at", mnt)
	return mnt, nil
}

// Remove unmounts the volume and removes its image. It refuses to remove
// anything still mounted.
func (v *Volumes) Remove(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	mnt := v.path(id, mountName)
	if err := hostfs.UnmountUnder(mnt); err != nil {
		return err
	}
	if ok, err := hostfs.Mounted(mnt); err != nil || ok {
		return errors.Join(err, fmt.Errorf("%s is still mounted; not removing it", mnt))
	}
	return os.RemoveAll(v.path(id))
}

// Usage returns what the volume can hold and what its files take.
func (v *Volumes) Usage(id string) (sandbox.VolumeUsage, error) {
	mnt, err := v.Mount(id)
	if err != nil {
		return sandbox.VolumeUsage{}, err
	}
	size, used, err := disk.Usage(mnt)
	return sandbox.VolumeUsage{SizeBytes: size, UsedBytes: used}, err
}

// List returns the IDs of the volumes in the directory.
func (v *Volumes) List() ([]string, error) {
	entries, err := os.ReadDir(v.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && checkID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// checkID refuses an ID that could name a path outside the directory.
func checkID(id string) error {
	if !strings.HasPrefix(id, idPrefix) || strings.ContainsAny(id, "/.") || len(id) < len(idPrefix)+1 {
		return fmt.Errorf("%w: %q is not a volume ID", errdefs.ErrInvalidArgument, id)
	}
	return nil
}

// loopsOf returns the loop devices whose backing file is img.
func loopsOf(img string) []string {
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	var devs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)") == img {
			devs = append(devs, "/dev/"+filepath.Base(filepath.Dir(filepath.Dir(f))))
		}
	}
	return devs
}
