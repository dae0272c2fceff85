package agent

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// handleWriteArchive extracts a tar stream into the directory at path,
// creating it if needed. Entries that are absolute or climb out with ".."
// are rejected. Nothing already in the destination is followed: a symlink
// where the archive wants a file, a directory or a path component is
// replaced, not written through (os.Root additionally guarantees that no
// operation resolves outside the directory). Regular files, directories,
// symlinks and hard links are extracted with their permission bits and
// owned by the agent; other entry types are skipped. An extraction is all
// or nothing: on an error (a truncated archive, a bad entry, a full disk)
// what it made is removed and what it replaced put back (see undoLog).
//
// Template builds ask for more, as Docker's COPY does: owner=USER[:GROUP]
// gives every entry that owner (names resolved in the sandbox),
// keep_owners=true keeps the owners the archive records, and
// follow_links=true follows a symlink to a directory on the way to an
// entry (inside the sandbox's root, like /bin -> usr/bin) rather than
// replacing it.
func (s *Server) handleWriteArchive(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	dir := q.path()
	x, err := s.extractOptions(q)
	if err != nil {
		return err
	}
	_, statErr := os.Lstat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fsError(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fsError(err)
	}
	defer root.Close()
	x.root, x.dirs, x.seen, x.unchanged = root, map[string]bool{}, map[string]bool{}, map[string]fs.FileMode{}
	if !x.sync {
		x.undo = newUndoLog(root)
	}
	if err := x.extractAll(tar.NewReader(r.Body)); err != nil {
		x.undo.rollback(s.log)
		if errors.Is(statErr, fs.ErrNotExist) && x.undo != nil {
			os.Remove(dir) // made for this extraction, and empty again
		}
		return err
	}
	x.undo.done(s.log)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// extractAll extracts every entry of tr, then, for sync, removes what the
// archive does not hold.
func (x *extractor) extractAll(tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: reading tar: %w", errdefs.ErrInvalidArgument, err)
		}
		if err := x.extract(hdr, tr); err != nil {
			return err
		}
	}
	if x.sync {
		return x.prune()
	}
	return nil
}

// entryName cleans a tar entry name and checks that it stays inside the
// destination.
func entryName(name string) (string, error) {
	clean := path.Clean(strings.TrimSuffix(name, "/"))
	if name == "" || path.IsAbs(name) || !filepath.IsLocal(clean) && clean != "." {
		return "", fmt.Errorf("%w: archive entry %q escapes the destination", errdefs.ErrInvalidArgument, name)
	}
	return clean, nil
}

func (x *extractor) extract(hdr *tar.Header, r io.Reader) error {
	name, err := entryName(hdr.Name)
	if err != nil {
		return err
	}
	mode := agentapi.FileMode(uint32(hdr.Mode) & 0o7777)
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			return fsError(x.root.Chmod(".", mode))
		}
		return nil
	}
	if parent := path.Dir(name); parent != "." {
		if err := x.ensureDir(parent); err != nil {
			return err
		}
	}
	if x.sync {
		if done, err := x.extractSynced(name, hdr, r, mode); done || err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := x.ensureDir(name); err != nil {
			return err
		}
	case tar.TypeReg:
		if err := x.writeFile(name, r); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := x.clear(name); err != nil {
			return err
		}
		if err := x.root.Symlink(hdr.Linkname, name); err != nil {
			return fsError(err)
		}
		x.undo.made(name)
		return x.chown(name, hdr)
	case tar.TypeLink:
		target, err := entryName(hdr.Linkname)
		if err != nil || target == "." {
			return fmt.Errorf("%w: hard link %q points outside the destination", errdefs.ErrInvalidArgument, hdr.Linkname)
		}
		if err := x.clear(name); err != nil {
			return err
		}
		if err := x.root.Link(target, name); err != nil {
			return fsError(err)
		}
		x.undo.made(name)
		return nil
	default:
		return nil // devices, FIFOs and the like are skipped
	}
	return x.finish(name, hdr, mode)
}

// finish gives an extracted entry its owner, then its mode: a change of
// owner clears the setuid and setgid bits.
func (x *extractor) finish(name string, hdr *tar.Header, mode fs.FileMode) error {
	if err := x.chown(name, hdr); err != nil {
		return err
	}
	return fsError(x.root.Chmod(name, mode))
}

// writeFile writes a regular file's content to name, replacing what is there.
func (x *extractor) writeFile(name string, r io.Reader) error {
	if err := x.clear(name); err != nil {
		return err
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fsError(err)
	}
	x.undo.made(name)
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: archive entry %s is cut short: the tar ends inside it; nothing was extracted", errdefs.ErrInvalidArgument, name)
	}
	if err != nil {
		return fmt.Errorf("extracting %s: %w", name, fsError(err))
	}
	return nil
}

// ensureDir makes every component of rel a real directory: missing ones are
// created and symlinks are replaced by directories.
func (x *extractor) ensureDir(rel string) error {
	if x.dirs[rel] {
		return nil
	}
	if parent := path.Dir(rel); parent != "." {
		if err := x.ensureDir(parent); err != nil {
			return err
		}
	}
	fi, err := x.root.Lstat(rel)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 && x.followLinks {
		if target, serr := x.root.Stat(rel); serr == nil && target.IsDir() {
			fi = target // a link to a directory inside the root, kept
		}
	}
	switch {
	case err == nil && fi.IsDir():
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		if err := x.remove(rel); err != nil {
			return fsError(err)
		}
		if err := x.root.Mkdir(rel, 0o755); err != nil {
			return fsError(err)
		}
		x.undo.made(rel)
	case err == nil:
		return fmt.Errorf("%w: %s exists and is not a directory", errdefs.ErrConflict, rel)
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.Mkdir(rel, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fsError(err)
		} else if err == nil {
			x.undo.made(rel)
		}
	default:
		return fsError(err)
	}
	x.dirs[rel] = true
	return nil
}

// clear removes whatever non-directory is at rel so a new entry can take its
// place.
func (x *extractor) clear(rel string) error {
	fi, err := x.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fsError(err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s is a directory", errdefs.ErrConflict, rel)
	}
	delete(x.dirs, rel)
	return fsError(x.remove(rel))
}
