package cli

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// copyStats counts what a copy moved, for its summary line.
type copyStats struct {
	files int
	bytes int64
}

func (s copyStats) String() string {
	if s.files == 0 {
		return "copied " + humanSize(s.bytes)
	}
	return fmt.Sprintf("copied %d file%s, %s", s.files, plural(s.files), humanSize(s.bytes))
}

// writeTar writes a tar archive of the local directory dir to w. Entry
// names start with prefix (no prefix: the directory's content only).
// Symlinks are archived as links; sockets, devices and pipes are skipped
// with a warning.
func writeTar(w io.Writer, dir, prefix string, st *copyStats, warn func(string)) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		if name == "." {
			return nil // the directory itself, when only its content is copied
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		return addTarEntry(tw, p, name, info, st, warn)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func addTarEntry(tw *tar.Writer, p, name string, info fs.FileInfo, st *copyStats, warn func(string)) error {
	var link string
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return fmt.Errorf("reading link %s: %w", p, err)
		}
		link = target
	case info.Mode().IsRegular(), info.IsDir():
	default:
		warn(fmt.Sprintf("skipping %s: only files, directories and symlinks are copied", p))
		return nil
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return fmt.Errorf("archiving %s: %w", p, err)
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	// Ownership is the sandbox's business: files land owned by the user
	// the server extracts as.
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archiving %s: %w", p, err)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	defer f.Close()
	n, err := io.CopyN(tw, f, hdr.Size)
	st.files++
	st.bytes += n
	if err != nil {
		return fmt.Errorf("reading %s (did it change while copying?): %w", p, err)
	}
	return nil
}

// extractTar extracts a tar stream into the local directory dir. rename
// maps each cleaned entry name to where it goes inside dir ("." skips the
// entry). It refuses entries that would land outside dir (absolute or ".."
// names) and never writes through a symlink: an existing symlink in the
// way of a file is replaced, one on the way to it is an error.
func extractTar(r io.Reader, dir string, rename func(string) (string, error), st *copyStats, warn func(string)) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer root.Close()
	x := &extractor{root: root, dir: dir, st: st}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		name, err := x.name(hdr.Name, rename)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		if err := x.parents(name); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = x.mkdir(name, hdr)
		case tar.TypeReg:
			err = x.file(name, hdr, tr)
		case tar.TypeSymlink:
			err = x.symlink(name, hdr)
		case tar.TypeLink:
			err = x.hardlink(name, hdr, rename)
		default:
			warn(fmt.Sprintf("skipping %s: only files, directories and links are extracted", hdr.Name))
		}
		if err != nil {
			return err
		}
	}
}

type extractor struct {
	root *os.Root
	dir  string
	st   *copyStats
}

// name cleans an entry name, refuses one that leaves the destination, and
// applies rename.
func (x *extractor) name(raw string, rename func(string) (string, error)) (string, error) {
	name := path.Clean(raw)
	if path.IsAbs(raw) || name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("refusing archive entry %q: it would land outside %s", raw, x.dir)
	}
	if rename == nil {
		return name, nil
	}
	return rename(name)
}

func (x *extractor) local(name string) string { return filepath.Join(x.dir, filepath.FromSlash(name)) }

// parents makes sure every directory above name is a real directory
// (creating missing ones), never a symlink.
func (x *extractor) parents(name string) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", x.local(p), err)
			}
		case err != nil:
			return fmt.Errorf("checking %s: %w", x.local(p), err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing to write %s through the symlink %s", x.local(name), x.local(p))
		case !fi.IsDir():
			return fmt.Errorf("cannot write %s: %s is not a directory", x.local(name), x.local(p))
		}
	}
	return nil
}

// clear removes whatever non-directory is at name, so the new entry is
// created fresh instead of written through a link.
func (x *extractor) clear(name string) error {
	fi, err := x.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", x.local(name), err)
	}
	if fi.IsDir() {
		return fmt.Errorf("cannot replace the directory %s with a file", x.local(name))
	}
	if err := x.root.Remove(name); err != nil {
		return fmt.Errorf("replacing %s: %w", x.local(name), err)
	}
	return nil
}

func (x *extractor) mkdir(name string, hdr *tar.Header) error {
	fi, err := x.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.Mkdir(name, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", x.local(name), err)
		}
		return x.chmod(name, fs.FileMode(hdr.Mode)&0o777|0o700)
	case err != nil:
		return fmt.Errorf("checking %s: %w", x.local(name), err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing to write into %s: it is a symlink", x.local(name))
	case !fi.IsDir():
		return fmt.Errorf("cannot replace the file %s with a directory", x.local(name))
	}
	return nil
}

func (x *extractor) file(name string, hdr *tar.Header, r io.Reader) error {
	if err := x.clear(name); err != nil {
		return err
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", x.local(name), err)
	}
	n, err := io.Copy(f, r)
	x.st.files++
	x.st.bytes += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", x.local(name), err)
	}
	if err := x.chmod(name, fs.FileMode(hdr.Mode)&0o777); err != nil {
		return err
	}
	if !hdr.ModTime.IsZero() {
		_ = x.root.Chtimes(name, hdr.ModTime, hdr.ModTime) // best effort, like cp -p
	}
	return nil
}

func (x *extractor) symlink(name string, hdr *tar.Header) error {
	if err := x.clear(name); err != nil {
		return err
	}
	if err := x.root.Symlink(hdr.Linkname, name); err != nil {
		return fmt.Errorf("creating symlink %s: %w", x.local(name), err)
	}
	return nil
}

func (x *extractor) hardlink(name string, hdr *tar.Header, rename func(string) (string, error)) error {
	target, err := x.name(hdr.Linkname, rename)
	if err != nil {
		return err
	}
	if err := x.parents(target); err != nil {
		return err
	}
	fi, err := x.root.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("refusing hard link %s to %s: the target is not a file extracted here", x.local(name), hdr.Linkname)
	}
	if err := x.clear(name); err != nil {
		return err
	}
	if err := x.root.Link(target, name); err != nil {
		return fmt.Errorf("creating link %s: %w", x.local(name), err)
	}
	return nil
}

func (x *extractor) chmod(name string, mode fs.FileMode) error {
	if err := x.root.Chmod(name, mode); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", x.local(name), err)
	}
	return nil
}
