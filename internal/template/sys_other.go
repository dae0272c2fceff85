//go:build !linux

package template

import (
	"fmt"
	"os"
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

func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
