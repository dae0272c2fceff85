//go:build !linux

package hostfs

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"

	"github.com/runtools/runtools/internal/errdefs"
)

// Mounted reports false: there are no host mounts to manage here.
func Mounted(string) (bool, error) { return false, nil }

// UnmountUnder does nothing.
func UnmountUnder(string) error { return nil }

// Overlay fails: overlayfs is Linux's.
func Overlay(string, []string, string, string) error {
	return fmt.Errorf("overlay mounts are not supported on %s: %w", runtime.GOOS, errdefs.ErrUnavailable)
}

// DiskUsage returns the apparent size of the files under dir.
func DiskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	return total, err
}

// SyncAll does nothing.
func SyncAll() {}
