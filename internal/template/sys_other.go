//go:build !linux

package template

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/runtools/runtools/internal/errdefs"
)

// Templates are built and used only on Linux (chroot, namespaces, gVisor);
// elsewhere the package compiles so that the CLI can be built, and every
// build fails as unavailable.

func isolatedProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func flock(*os.File, bool) (bool, error) {
	return false, fmt.Errorf("template builds are not supported on %s: %w", runtime.GOOS, errdefs.ErrUnavailable)
}

func syncAll() {}

func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func unmountUnder(string) error { return nil }

func diskUsage(dir string) (int64, error) {
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
