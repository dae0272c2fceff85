package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

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
		Mode:    agentapi.UnixMode(fi.Mode()),
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

// writeFileInfo answers with what is at path, without following a symlink.
func writeFileInfo(w http.ResponseWriter, path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fsError(err)
	}
	writeJSON(w, http.StatusOK, fileInfo(path, fi))
	return nil
}
