package errdefs

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// FS wraps a file system error in its kind: a missing file is not found,
// a full disk is resource exhausted, a bad path an invalid argument, and
// so on. An error of no known kind is returned as it is.
func FS(err error) error {
	var kind error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOTEMPTY): // before ErrExist, which matches it
		kind = ErrConflict
	case errors.Is(err, fs.ErrNotExist):
		kind = ErrNotFound
	case errors.Is(err, fs.ErrExist):
		kind = ErrAlreadyExists
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		kind = ErrPermissionDenied
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EINVAL),
		errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.EXDEV):
		kind = ErrInvalidArgument
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		kind = ErrResourceExhausted
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}
