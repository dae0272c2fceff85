package agent

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// What a template build asks of an extraction beyond the files API's:
// owners, symlinked directories followed, and a sync that writes only
// what differs (sandbox save).

type extractor struct {
	root *os.Root
	dirs map[string]bool // relative directories known to be real directories

	owner       *user // every entry's owner; nil: the agent, or the archive's
	keepOwners  bool  // entries keep the owners the archive records
	followLinks bool  // symlinks to directories on an entry's way are followed

	// sync makes the destination match the archive: what is already the
	// same is left untouched (an overlay takes no copy of it), and what
	// the archive's top-level directories do not hold is removed. seen
	// holds the archive's entries.
	sync      bool
	seen      map[string]bool
	unchanged map[string]fs.FileMode // entries marked agentapi.PAXUnchanged and their types, each to be found by prune

	undo *undoLog // nil for sync
}

// remove takes the non-directory at rel away, for good only once the
// extraction has succeeded.
func (x *extractor) remove(rel string) error {
	if x.undo == nil {
		return x.root.Remove(rel)
	}
	return x.undo.remove(rel)
}

// extractOptions reads the owner, keep_owners, follow_links and sync
// parameters, after any error q holds already.
func (s *Server) extractOptions(q *params) (*extractor, error) {
	x := &extractor{
		keepOwners:  q.flag("keep_owners"),
		followLinks: q.flag("follow_links"),
		sync:        q.flag("sync"),
	}
	if q.err != nil {
		return nil, q.err
	}
	if spec := q.r.URL.Query().Get("owner"); spec != "" {
		var err error
		if x.owner, err = s.users.lookup(spec); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// chown gives an extracted entry its owner, when one was asked for.
func (x *extractor) chown(name string, hdr *tar.Header) error {
	switch {
	case x.owner != nil:
		return fsError(x.root.Lchown(name, int(x.owner.UID), int(x.owner.GID)))
	case x.keepOwners:
		return fsError(x.root.Lchown(name, hdr.Uid, hdr.Gid))
	}
	return nil
}

// extractSynced does a sync's part of extracting an entry: it notes the
// entry as seen, and leaves an entry that is already the same alone (done)
// or rewrites a regular file whose bytes differ.
func (x *extractor) extractSynced(name string, hdr *tar.Header, r io.Reader, mode fs.FileMode) (done bool, err error) {
	x.seen[name] = true
	if size, ok := hdr.PAXRecords[agentapi.PAXUnchanged]; ok {
		return true, x.keepUnchanged(name, hdr, size)
	}
	if !x.sameAs(name, hdr) {
		return false, nil
	}
	if hdr.Typeflag == tar.TypeDir {
		x.dirs[name] = true
	}
	if hdr.Typeflag != tar.TypeReg {
		return true, nil
	}
	written, err := x.writeSynced(name, r)
	if err != nil || !written {
		return true, err
	}
	return true, x.finish(name, hdr, mode)
}

// keepUnchanged notes a file or symlink the archive says is unchanged, to
// be found as one here by prune's walk, which costs no more calls: the
// file is the destination's own, from the same template. Should prune not
// find it, the sender's view of what changed cannot be trusted: the
// extraction fails with ErrConflict, and the caller syncs again in full.
func (x *extractor) keepUnchanged(name string, hdr *tar.Header, size string) error {
	var kind fs.FileMode
	switch hdr.Typeflag {
	case tar.TypeReg:
	case tar.TypeSymlink:
		kind = fs.ModeSymlink
	default:
		return fmt.Errorf("%w: archive entry %q: %s on an entry that is neither a file nor a symlink", errdefs.ErrInvalidArgument, hdr.Name, agentapi.PAXUnchanged)
	}
	if _, err := strconv.ParseInt(size, 10, 64); err != nil {
		return fmt.Errorf("%w: archive entry %q: bad %s record %q", errdefs.ErrInvalidArgument, hdr.Name, agentapi.PAXUnchanged, size)
	}
	x.unchanged[name] = kind
	return nil
}

// sameAs reports whether the entry at name already is what hdr describes,
// for sync: the same kind, mode, owner and, for a symlink, target. Regular
// files are compared by content as they stream (see writeSynced).
func (x *extractor) sameAs(name string, hdr *tar.Header) bool {
	fi, err := x.root.Lstat(name)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (x.keepOwners && (int(st.Uid) != hdr.Uid || int(st.Gid) != hdr.Gid)) {
		return false
	}
	if hdr.Typeflag != tar.TypeSymlink && agentapi.UnixMode(fi.Mode()) != uint32(hdr.Mode)&0o7777 {
		return false
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return fi.IsDir()
	case tar.TypeSymlink:
		target, err := x.root.Readlink(name)
		return err == nil && fi.Mode()&fs.ModeSymlink != 0 && target == hdr.Linkname
	case tar.TypeReg:
		return fi.Mode().IsRegular() && fi.Size() == hdr.Size
	}
	return false
}

// writeSynced writes a regular file for sync, where sameAs found one of
// the same size and mode: when it holds the same bytes, nothing is
// written; else the file is written anew, the prefix already compared
// copied from the old one.
func (x *extractor) writeSynced(name string, r io.Reader) (written bool, err error) {
	old, err := x.root.Open(name)
	if err != nil {
		return true, x.writeFile(name, r)
	}
	defer old.Close()
	equal, pending, err := samePrefix(old, r)
	if err != nil {
		return false, fsError(err)
	}
	if pending == nil {
		return false, nil
	}
	if _, err := old.Seek(0, io.SeekStart); err != nil {
		return true, fsError(err)
	}
	return true, x.writeFile(name, io.MultiReader(io.LimitReader(old, equal), bytes.NewReader(pending), r))
}

// samePrefix reads a and b side by side until they differ or b ends: equal
// is how many bytes matched, and pending the chunk of b read where they
// differed (nil when b ended with no difference).
func samePrefix(a, b io.Reader) (equal int64, pending []byte, err error) {
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		n, errB := io.ReadFull(b, bufB)
		if n > 0 {
			m, _ := io.ReadFull(a, bufA[:n])
			if m != n || !bytes.Equal(bufA[:n], bufB[:n]) {
				return equal, append([]byte(nil), bufB[:n]...), nil
			}
			equal += int64(n)
		}
		switch {
		case errors.Is(errB, io.EOF), errors.Is(errB, io.ErrUnexpectedEOF):
			return equal, nil, nil
		case errB != nil:
			return equal, nil, errB
		}
	}
}

// prune removes what the archive's top-level directories do not hold.
func (x *extractor) prune() error {
	tops := map[string]bool{}
	for name := range x.seen {
		top, _, _ := cutFirst(name)
		tops[top] = true
	}
	for top := range tops {
		fi, err := x.root.Lstat(top)
		if err != nil || !fi.IsDir() {
			if kind, ok := x.unchanged[top]; ok && err == nil && fi.Mode().Type() == kind {
				delete(x.unchanged, top) // a top-level symlink, like bin -> usr/bin
			}
			continue
		}
		var gone []string
		err = fs.WalkDir(x.root.FS(), top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !x.seen[p] {
				gone = append(gone, p)
				if d.IsDir() {
					return fs.SkipDir
				}
			} else if kind, ok := x.unchanged[p]; ok && d.Type() == kind {
				delete(x.unchanged, p)
			}
			return nil
		})
		if err != nil {
			return fsError(err)
		}
		for _, p := range gone {
			if err := x.root.RemoveAll(p); err != nil {
				return fsError(err)
			}
		}
	}
	for name := range x.unchanged {
		return fmt.Errorf("%w: %s is not here as it was, though the archive says it is unchanged (and %d more)", errdefs.ErrConflict, name, len(x.unchanged)-1)
	}
	return nil
}

func cutFirst(name string) (first, rest string, ok bool) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i], name[i+1:], true
		}
	}
	return name, "", false
}
