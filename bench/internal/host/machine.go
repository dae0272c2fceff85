package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Machine describes where the numbers were taken.
type Machine struct {
	Kernel   string
	CPU      string
	Cores    int
	MemoryGB float64
	Runsc    string // runsc --version, plus the pinned build if recorded
	Podman   string
	Go       string
	Commit   string
}

// DescribeMachine reads the machine's kernel, CPU and memory, and the
// versions of runsc, podman, Go and the checked-out commit.
func DescribeMachine(ctx context.Context, runsc string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPU = ProcField("/proc/cpuinfo", "model name")
	var kb float64
	if _, err := fmt.Sscanf(ProcField("/proc/meminfo", "MemTotal"), "%f kB", &kb); err == nil {
		m.MemoryGB = kb / (1 << 20)
	}
	if out, err := Command(ctx, runsc, "--version"); err == nil {
		m.Runsc = strings.Join(strings.Split(strings.TrimSpace(out), "\n"), "; ")
	}
	if pin, err := os.ReadFile(filepath.Join(filepath.Dir(runsc), "runsc.version")); err == nil {
		m.Runsc += fmt.Sprintf(", built from gvisor.dev/gvisor/runsc@%s", strings.TrimSpace(string(pin)))
	}
	if out, err := Command(ctx, "podman", "--version"); err == nil {
		m.Podman = strings.TrimSpace(out)
	} else {
		m.Podman = "not available: " + err.Error()
	}
	if out, err := Command(ctx, "git", "describe", "--always", "--dirty"); err == nil {
		m.Commit = strings.TrimSpace(out)
	}
	return m
}
