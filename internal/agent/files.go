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

// pathParam returns the cleaned absolute path in the "path" query parameter.
// The agent runs inside the sandbox, so every absolute path is the
// sandbox's own and there is nothing to escape from.
func pathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", fmt.Errorf("%w: path is required", errdefs.ErrInvalidArgument)
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%w: path %q is not absolute", errdefs.ErrInvalidArgument, p)
	}
	return filepath.Clean(p), nil
}

// existingPath returns the path parameter, which must not be / (verb says
// what was refused), and what is there, without following a symlink.
func existingPath(r *http.Request, verb string) (string, fs.FileInfo, error) {
	p, err := pathParam(r)
	if err != nil {
		return "", nil, err
	}
	if p == "/" {
		return "", nil, fmt.Errorf("%w: refusing to %s /", errdefs.ErrInvalidArgument, verb)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return "", nil, fsError(err)
	}
	return p, fi, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: bad %s %q", errdefs.ErrInvalidArgument, name, v)
	}
	return b, nil
}

// fsError wraps a file system error in its errdefs kind.
func fsError(err error) error {
	var kind error
	switch {
	case errors.Is(err, syscall.ENOTEMPTY): // before ErrExist, which matches it
		kind = errdefs.ErrConflict
	case errors.Is(err, fs.ErrNotExist):
		kind = errdefs.ErrNotFound
	case errors.Is(err, fs.ErrExist):
		kind = errdefs.ErrAlreadyExists
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		kind = errdefs.ErrPermissionDenied
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EINVAL),
		errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.EXDEV):
		kind = errdefs.ErrInvalidArgument
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		kind = errdefs.ErrResourceExhausted
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// unixMode returns the permission bits of m as st_mode has them (07777).
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= syscall.S_ISVTX
	}
	return u
}

// fileMode is the inverse of unixMode.
func fileMode(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	if u&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if u&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if u&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "other"
	}
}

func fileInfo(path string, fi fs.FileInfo) agentapi.FileInfo {
	info := agentapi.FileInfo{
		Name:    fi.Name(),
		Path:    path,
		Type:    fileType(fi.Mode()),
		Size:    fi.Size(),
		Mode:    unixMode(fi.Mode()),
		ModTime: fi.ModTime(),
	}
	if path == "/" {
		info.Name = "/"
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		info.LinkTarget, _ = os.Readlink(path)
	}
	return info
}

// handleReadFile streams a regular file (symlinks followed).
func (s *Server) handleReadFile(w http.ResponseWriter, r *http.Request) error {
	path, err := pathParam(r)
	if err != nil {
		return err
	}
	// O_NONBLOCK so that opening a FIFO cannot hang; it is rejected below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fsError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fsError(err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s is a directory", errdefs.ErrInvalidArgument, path)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", errdefs.ErrInvalidArgument, path)
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-File-Mode", fmt.Sprintf("%04o", unixMode(fi.Mode())))
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

// modeParam reads a new file's mode (octal, default 0644).
func modeParam(r *http.Request) (uint32, error) {
	v := r.URL.Query().Get("mode")
	if v == "" {
		return 0o644, nil
	}
	m, err := strconv.ParseUint(v, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%w: bad mode %q (want octal, e.g. 0644)", errdefs.ErrInvalidArgument, v)
	}
	return uint32(m), nil
}

// parentDir makes sure a new file's directory exists: made with
// mkdirs=true, else an error that says how.
func parentDir(r *http.Request, dir string) error {
	mkdirs, err := boolParam(r, "mkdirs")
	if err != nil {
		return err
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

// handleWriteFile streams the body to a temporary file next to path, syncs
// it and renames it over path, so readers never see a partial file. An
// existing file keeps its owner; an existing symlink at path is replaced,
// not written through.
func (s *Server) handleWriteFile(w http.ResponseWriter, r *http.Request) error {
	path, err := pathParam(r)
	if err != nil {
		return err
	}
	mode, err := modeParam(r)
	if err != nil {
		return err
	}
	if path == "/" {
		return fmt.Errorf("%w: / is a directory", errdefs.ErrInvalidArgument)
	}
	dir := filepath.Dir(path)
	if err := parentDir(r, dir); err != nil {
		return err
	}
	var owner *syscall.Stat_t
	if fi, err := os.Lstat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("%w: %s is a directory", errdefs.ErrInvalidArgument, path)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() {
			owner = st
		}
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
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
	if _, err := io.Copy(tmp, r.Body); err != nil {
		return fmt.Errorf("writing %s: %w", path, fsError(err))
	}
	if err := tmp.Chmod(fileMode(mode)); err != nil {
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
	fi, err := os.Lstat(path)
	if err != nil {
		return fsError(err)
	}
	writeJSON(w, http.StatusOK, fileInfo(path, fi))
	return nil
}

func (s *Server) handleStat(w http.ResponseWriter, r *http.Request) error {
	path, err := pathParam(r)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fsError(err)
	}
	writeJSON(w, http.StatusOK, fileInfo(path, fi))
	return nil
}

// handleList lists a directory (symlink to a directory followed), sorted by
// name; entries describe themselves, not what they link to.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) error {
	path, err := pathParam(r)
	if err != nil {
		return err
	}
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
	path, err := pathParam(r)
	if err != nil {
		return err
	}
	parents, err := boolParam(r, "parents")
	if err != nil {
		return err
	}
	if parents {
		err = os.MkdirAll(path, 0o755)
	} else {
		err = os.Mkdir(path, 0o755)
	}
	if err != nil {
		return fsError(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fsError(err)
	}
	writeJSON(w, http.StatusOK, fileInfo(path, fi))
	return nil
}

// handleRemove removes a file, a symlink (not its target) or a directory;
// a non-empty directory needs recursive=true.
func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) error {
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return err
	}
	path, fi, err := existingPath(r, "remove")
	if err != nil {
		return err
	}
	if fi.IsDir() && recursive {
		err = os.RemoveAll(path)
	} else {
		err = os.Remove(path)
	}
	if err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			err = fmt.Errorf("%w: directory %s is not empty (set recursive to remove it)", errdefs.ErrConflict, path)
		} else {
			err = fsError(err)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
