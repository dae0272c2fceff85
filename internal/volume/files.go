package volume

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// Dir reads and writes the files of a mounted volume, by paths relative
// to its top ("/" is the top). No path leads out of it: '..' is refused,
// and every path is first resolved by the kernel beneath the top
// (openat2 RESOLVE_BENEATH), so a symlink that points out of the volume
// is refused too; the work itself goes through an os.Root, which keeps to
// the top as well.
type Dir struct {
	root *os.Root
	top  *os.File // opened with O_PATH, for openat2
}

// Open opens the volume mounted at dir. The caller closes it.
func Open(dir string) (*Dir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the volume: %w", errdefs.FS(err))
	}
	top, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("opening the volume: %w", errdefs.FS(err))
	}
	return &Dir{root: root, top: top}, nil
}

// Close closes the volume.
func (d *Dir) Close() error { return errors.Join(d.root.Close(), d.top.Close()) }

// rel turns the path of a request (absolute from the volume's top, or
// relative to it) into a clean relative path, "." for the top.
func rel(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: a path inside the volume is required, e.g. ?path=/data.csv", errdefs.ErrInvalidArgument)
	}
	if slices.Contains(strings.Split(p, "/"), "..") || strings.ContainsRune(p, 0) {
		return "", escapes(p)
	}
	r := strings.TrimPrefix(path.Clean("/"+p), "/")
	if r == "" {
		return ".", nil
	}
	return r, nil
}

func escapes(p string) error {
	return fmt.Errorf("%w: path %q leads out of the volume (through '..' or a symlink); give a path inside it", errdefs.ErrInvalidArgument, p)
}

// beneath checks that r, or the nearest of its parents that exists,
// resolves inside the volume, following symlinks (all but r's last part
// when noFollow).
func (d *Dir) beneath(p, r string, noFollow bool) error {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV}
	if noFollow {
		how.Flags |= unix.O_NOFOLLOW
	}
	for {
		fd, err := unix.Openat2(int(d.top.Fd()), r, &how)
		switch {
		case err == nil:
			return unix.Close(fd)
		case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ELOOP):
			return escapes(p)
		case errors.Is(err, unix.ENOENT) && r != ".":
			r, how.Flags = path.Dir(r), how.Flags&^unix.O_NOFOLLOW
		default:
			return fmt.Errorf("%s: %w", p, errdefs.FS(err))
		}
	}
}

// info describes what is at r (not following a last symlink), as the
// agent describes a sandbox's files.
func (d *Dir) info(r string) (agentapi.FileInfo, error) {
	fi, err := d.root.Lstat(r)
	if err != nil {
		return agentapi.FileInfo{}, errdefs.FS(err)
	}
	target := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ = d.root.Readlink(r)
	}
	return agentapi.Info(path.Join("/", r), fi, target), nil
}

// Stat describes what is at p, not following a last symlink.
func (d *Dir) Stat(p string) (agentapi.FileInfo, error) {
	r, err := rel(p)
	if err != nil {
		return agentapi.FileInfo{}, err
	}
	if err := d.beneath(p, r, true); err != nil {
		return agentapi.FileInfo{}, err
	}
	return d.info(r)
}

// List describes the entries of the directory p, by name.
func (d *Dir) List(p string) ([]agentapi.FileInfo, error) {
	r, err := rel(p)
	if err != nil {
		return nil, err
	}
	if err := d.beneath(p, r, false); err != nil {
		return nil, err
	}
	f, err := d.root.Open(r)
	if err != nil {
		return nil, errdefs.FS(err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, errdefs.FS(err)
	}
	slices.Sort(names)
	out := make([]agentapi.FileInfo, 0, len(names))
	for _, n := range names {
		fi, err := d.info(path.Join(r, n))
		if errors.Is(err, errdefs.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, fi)
	}
	return out, nil
}

// Read opens the file p for reading and returns its size.
func (d *Dir) Read(p string) (io.ReadCloser, int64, error) {
	r, err := rel(p)
	if err != nil {
		return nil, 0, err
	}
	if err := d.beneath(p, r, false); err != nil {
		return nil, 0, err
	}
	f, err := d.root.Open(r)
	if err != nil {
		return nil, 0, errdefs.FS(err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s is not a regular file (list a directory with files/list)", errdefs.ErrInvalidArgument, p)
	}
	if err != nil {
		f.Close()
		return nil, 0, errdefs.FS(err)
	}
	return f, fi.Size(), nil
}

// Write makes p a file with what body holds, with permissions mode, its
// parent directories first if mkdirs. The data goes to a new file next to
// it, renamed over p once whole: a reader sees the old file or the new,
// and a failure (a full volume) leaves p as it was.
func (d *Dir) Write(p string, body io.Reader, mode fs.FileMode, mkdirs bool) (agentapi.FileInfo, error) {
	r, err := rel(p)
	if err != nil {
		return agentapi.FileInfo{}, err
	}
	if r == "." {
		return agentapi.FileInfo{}, fmt.Errorf("%w: path %q is the volume's top directory; name a file in it", errdefs.ErrInvalidArgument, p)
	}
	if err := d.beneath(p, r, true); err != nil {
		return agentapi.FileInfo{}, err
	}
	if mkdirs {
		if err := d.root.MkdirAll(path.Dir(r), 0o755); err != nil {
			return agentapi.FileInfo{}, errdefs.FS(err)
		}
	}
	tmp := path.Join(path.Dir(r), ".upload-"+randomHex())
	if err := d.writeNew(tmp, body, mode); err != nil {
		_ = d.root.Remove(tmp)
		return agentapi.FileInfo{}, err
	}
	if err := d.root.Rename(tmp, r); err != nil {
		_ = d.root.Remove(tmp)
		return agentapi.FileInfo{}, errdefs.FS(err)
	}
	return d.info(r)
}

// writeNew creates the file r with what body holds, synced.
func (d *Dir) writeNew(r string, body io.Reader, mode fs.FileMode) error {
	f, err := d.root.OpenFile(r, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return errdefs.FS(err)
	}
	_, err = io.Copy(f, body)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	return errdefs.FS(errors.Join(err, f.Close()))
}

// Remove removes p: a file, an empty directory, or with recursive a
// directory and all it holds. A last symlink is removed, not followed.
func (d *Dir) Remove(p string, recursive bool) error {
	r, err := rel(p)
	if err != nil {
		return err
	}
	if r == "." {
		return fmt.Errorf("%w: the volume's top directory cannot be removed; remove the volume itself with `runtools volume rm`", errdefs.ErrInvalidArgument)
	}
	if err := d.beneath(p, r, true); err != nil {
		return err
	}
	if _, err := d.root.Lstat(r); err != nil {
		return errdefs.FS(err)
	}
	if recursive {
		return errdefs.FS(d.root.RemoveAll(r))
	}
	return errdefs.FS(d.root.Remove(r))
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Mkdir makes the directory p; with parents, its missing parents too (and
// then it is no error if p exists).
func (d *Dir) Mkdir(p string, parents bool) (agentapi.FileInfo, error) {
	r, err := rel(p)
	if err != nil {
		return agentapi.FileInfo{}, err
	}
	if err := d.beneath(p, r, false); err != nil {
		return agentapi.FileInfo{}, err
	}
	if parents {
		err = d.root.MkdirAll(r, 0o755)
	} else {
		err = d.root.Mkdir(r, 0o755)
	}
	if err != nil {
		return agentapi.FileInfo{}, errdefs.FS(err)
	}
	return d.info(r)
}
