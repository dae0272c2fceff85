package agent

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// handleReadArchive streams a tar of the file or directory tree at path.
// Entry names are relative and start with path's base name; symlinks are
// stored as symlinks and never followed; sockets, devices and FIFOs are
// skipped. An error after the stream has started aborts the connection, so
// the client never mistakes a truncated tar for a whole one. With
// changed_only=true, what the sandbox has not changed goes without its
// bytes (see agentapi.PAXUnchanged).
func (s *Server) handleReadArchive(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	changedOnly := q.flag("changed_only")
	root, fi := q.existing("archive")
	if q.err != nil {
		return q.err
	}
	a := archiver{}
	if changedOnly {
		a.unchanged = s.lowerLayerTest(root)
	}
	parent, err := os.OpenRoot(filepath.Dir(root))
	if err != nil {
		return fsError(err)
	}
	defer parent.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	bw := bufio.NewWriterSize(w, 256<<10) // a write per header is a write to the network
	a.tw = tar.NewWriter(bw)
	err = a.add(parent, filepath.Base(root), filepath.Base(root), fi)
	if err == nil {
		err = a.tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.log.Warn("archive aborted", "path", root, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// archiver writes a tree into a tar. It walks with a handle on each
// directory and looks each entry up in it: one lookup per entry, where a
// whole path costs one per component (dear, in gVisor).
type archiver struct {
	tw *tar.Writer
	// unchanged, when set, says which files the sandbox has not changed.
	unchanged func(*syscall.Stat_t) bool
}

// add writes the entry base of dir, named name in the archive, and if it
// is a directory everything under it, in lexical order.
func (a *archiver) add(dir *os.Root, base, name string, fi fs.FileInfo) error {
	if err := a.entry(dir, base, name, fi); err != nil || !fi.IsDir() {
		return err
	}
	sub, err := dir.OpenRoot(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed during the walk
	}
	if err != nil {
		return err
	}
	defer sub.Close()
	f, err := sub.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, n := range names {
		fi, err := sub.Lstat(n)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := a.add(sub, n, name+"/"+n, fi); err != nil {
			return err
		}
	}
	return nil
}

// entry writes the header of the entry base of dir and a regular file's
// bytes; a regular file or symlink that a.unchanged says is unchanged goes
// without its bytes or target, marked with agentapi.PAXUnchanged.
func (a *archiver) entry(dir *os.Root, base, name string, fi fs.FileInfo) error {
	hdr := &tar.Header{Name: name, Mode: int64(agentapi.UnixMode(fi.Mode())), ModTime: fi.ModTime()}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st != nil {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	}
	var err error
	switch regular, link := fi.Mode().IsRegular(), fi.Mode()&fs.ModeSymlink != 0; {
	case (regular || link) && st != nil && a.unchanged != nil && a.unchanged(st):
		hdr.Typeflag = tar.TypeReg
		if link {
			hdr.Typeflag = tar.TypeSymlink
		}
		hdr.PAXRecords = map[string]string{agentapi.PAXUnchanged: strconv.FormatInt(fi.Size(), 10)}
	case regular:
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
	case fi.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name = strings.TrimSuffix(hdr.Name, "/") + "/"
	case link:
		hdr.Typeflag = tar.TypeSymlink
		if hdr.Linkname, err = dir.Readlink(base); err != nil {
			return err
		}
	default:
		return nil
	}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	f, err := dir.Open(base)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.CopyN(a.tw, f, hdr.Size); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	return nil
}
