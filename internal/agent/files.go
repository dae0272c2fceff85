package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// readFile streams the regular file at path (symlinks followed).
func (s *Server) readFile(w http.ResponseWriter, path string) error {
	f, fi, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-File-Mode", fmt.Sprintf("%04o", agentapi.UnixMode(fi.Mode())))
	size := fi.Size()
	var n int64
	if size > 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		n, err = io.CopyN(w, f, size)
	} else {
		// Size 0 may still have content (procfs): send it chunked.
		n, err = io.Copy(w, f)
	}
	if err != nil {
		s.log.Warn("reading file aborted", "path", path, "sent", n, "err", err)
		panic(http.ErrAbortHandler) // the client must see a broken transfer, not a short file
	}
	return nil
}

// openRegular opens the regular file at path, following symlinks.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	// O_NONBLOCK so that opening a FIFO cannot hang; it is rejected below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fsError(err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = fsError(err)
	case fi.IsDir():
		err = fmt.Errorf("%w: %s is a directory", errdefs.ErrInvalidArgument, path)
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%w: %s is not a regular file", errdefs.ErrInvalidArgument, path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// handleWriteFile streams the body to a temporary file next to path, syncs
// it and renames it over path, so readers never see a partial file. An
// existing file keeps its owner; an existing symlink at path is replaced,
// not written through.
func (s *Server) handleWriteFile(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	path, mode := q.path(), q.mode()
	if q.err != nil {
		return q.err
	}
	if path == "/" {
		return fmt.Errorf("%w: / is a directory", errdefs.ErrInvalidArgument)
	}
	if err := parentDir(q, filepath.Dir(path)); err != nil {
		return err
	}
	owner, err := keptOwner(path)
	if err != nil {
		return err
	}
	if err := s.replaceFile(path, r.Body, agentapi.FileMode(mode), owner); err != nil {
		return err
	}
	return writeFileInfo(w, path)
}

// parentDir makes sure a new file's directory exists: made with
// mkdirs=true, else an error that says how.
func parentDir(q *params, dir string) error {
	mkdirs := q.flag("mkdirs")
	if q.err != nil {
		return q.err
	}
	if mkdirs {
		return fsError(os.MkdirAll(dir, 0o755))
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: parent directory %s does not exist (set mkdirs to create it)", errdefs.ErrNotFound, dir)
	case err != nil:
		return fsError(err)
	case !fi.IsDir():
		return fmt.Errorf("%w: parent %s is not a directory", errdefs.ErrInvalidArgument, dir)
	}
	return nil
}

// keptOwner returns the owner of the regular file at path, which the file
// written over it keeps, or nil when there is none. A directory at path
// cannot be written over.
func keptOwner(path string) (*syscall.Stat_t, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is a directory", errdefs.ErrInvalidArgument, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() {
		return st, nil
	}
	return nil, nil
}

// replaceFile writes body to a temporary file next to path, gives it mode
// and owner (if not nil), syncs it and renames it over path.
func (s *Server) replaceFile(path string, body io.Reader, mode fs.FileMode, owner *syscall.Stat_t) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fsError(err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, body); err != nil {
		return fmt.Errorf("writing %s: %w", path, fsError(err))
	}
	if err := tmp.Chmod(mode); err != nil {
		return fsError(err)
	}
	if owner != nil {
		if err := tmp.Chown(int(owner.Uid), int(owner.Gid)); err != nil {
			s.log.Warn("keeping file owner", "path", path, "err", err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fsError(err)
	}
	if err := tmp.Close(); err != nil {
		return fsError(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fsError(err)
	}
	committed = true
	return nil
}

// listDir answers with the entries of the directory at path (a symlink to
// a directory followed), sorted by name; entries describe themselves, not
// what they link to.
func listDir(w http.ResponseWriter, path string) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return fsError(err)
	}
	out := make([]agentapi.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return fsError(err)
		}
		out = append(out, fileInfo(filepath.Join(path, e.Name()), fi))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleMkdir(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	path, parents := q.path(), q.flag("parents")
	if q.err != nil {
		return q.err
	}
	mkdir := os.Mkdir
	if parents {
		mkdir = os.MkdirAll
	}
	if err := mkdir(path, 0o755); err != nil {
		return fsError(err)
	}
	return writeFileInfo(w, path)
}

// handleRemove removes a file, a symlink (not its target) or a directory;
// a non-empty directory needs recursive=true.
func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	recursive := q.flag("recursive")
	path, fi := q.existing("remove")
	if q.err != nil {
		return q.err
	}
	remove := os.Remove
	if fi.IsDir() && recursive {
		remove = os.RemoveAll
	}
	if err := remove(path); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("%w: directory %s is not empty (set recursive to remove it)", errdefs.ErrConflict, path)
		}
		return fsError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
