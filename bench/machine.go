package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// machine describes where the numbers were taken.
type machine struct {
	Kernel   string
	CPU      string
	Cores    int
	MemoryGB float64
	Runsc    string // runsc --version, plus the pinned build if recorded
	Podman   string
	Go       string
	Commit   string
}

func describeMachine(ctx context.Context, runsc string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	var kb float64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%f kB", &kb); err == nil {
		m.MemoryGB = kb / (1 << 20)
	}
	if out, err := command(ctx, runsc, "--version"); err == nil {
		m.Runsc = strings.Join(strings.Split(strings.TrimSpace(out), "\n"), "; ")
	}
	if pin, err := os.ReadFile(filepath.Join(filepath.Dir(runsc), "runsc.version")); err == nil {
		m.Runsc += fmt.Sprintf(", built from gvisor.dev/gvisor/runsc@%s", strings.TrimSpace(string(pin)))
	}
	if out, err := command(ctx, "podman", "--version"); err == nil {
		m.Podman = strings.TrimSpace(out)
	} else {
		m.Podman = "not available: " + err.Error()
	}
	if out, err := command(ctx, "git", "describe", "--always", "--dirty"); err == nil {
		m.Commit = strings.TrimSpace(out)
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage returns the 1-minute load average, a sign of other work on
// the machine (other engineers' tests, say) while the bench ran.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
