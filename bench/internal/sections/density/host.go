package density

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// leaks looks for anything of the given sandboxes still on the host after
// their destroy: records not stopped, runsc containers and processes,
// network namespaces, cgroups and directories.
func leaks(ctx context.Context, srv *server.Server, ids []string) []string {
	var out []string
	if list, err := srv.Client.List(ctx); err == nil {
		for _, sb := range list {
			if slices.Contains(ids, sb.ID) {
				out = append(out, fmt.Sprintf("density sandbox %s in state %s", sb.ID, sb.State))
			}
		}
	} else {
		out = append(out, "density: listing sandboxes: "+err.Error())
	}
	runsc, _ := host.Command(ctx, srv.Runsc, "--root="+filepath.Join(srv.DataDir, "runsc"), "list", "--quiet")
	containers := strings.Fields(runsc)
	procs := processCmdlines()
	for _, id := range ids {
		var left []string
		if slices.Contains(containers, id) {
			left = append(left, "runsc container")
		}
		if exists(filepath.Join("/run/netns", srv.Bridge+"-"+id)) {
			left = append(left, "network namespace")
		}
		if dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "runtools", id)); len(dirs) > 0 || exists(filepath.Join(cgroupV2Root, id)) {
			left = append(left, "cgroup")
		}
		if exists(srv.SandboxDir(id)) {
			left = append(left, "directory")
		}
		for _, cmd := range procs {
			if strings.Contains(cmd, id) {
				left = append(left, "process "+report.OneLine(cmd))
				break
			}
		}
		if len(left) > 0 {
			out = append(out, fmt.Sprintf("density sandbox %s: %s", id, strings.Join(left, ", ")))
		}
	}
	return out
}

// processCmdlines returns the command line of every process.
func processCmdlines() []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && len(b) > 0 {
			out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// hostCPUBusy returns how busy the host's CPUs were over d, in % of all
// cores, from /proc/stat.
func hostCPUBusy(ctx context.Context, d time.Duration) (float64, error) {
	busy0, total0, err := cpuTicks()
	if err != nil {
		return 0, err
	}
	if err := measure.Sleep(ctx, d); err != nil {
		return 0, err
	}
	busy1, total1, err := cpuTicks()
	if err != nil {
		return 0, err
	}
	if total1 <= total0 {
		return 0, nil
	}
	return 100 * float64(busy1-busy0) / float64(total1-total0), nil
}

// cpuTicks returns the busy and total ticks of all CPUs from /proc/stat;
// idle and iowait are not busy.
func cpuTicks() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("reading /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	for i, s := range f[1:] {
		var n int64
		if _, err := fmt.Sscan(s, &n); err != nil {
			return 0, 0, fmt.Errorf("unexpected /proc/stat: %q", line)
		}
		if i == 7 || i == 8 { // guest and guest_nice are in user already
			continue
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// sandboxesCPU returns the CPU time the sandboxes' cgroups have used
// (cpuacct v1, else cpu.stat v2); those without one count nothing.
func sandboxesCPU(sbs []*client.Sandbox) time.Duration {
	var total time.Duration
	for _, sb := range sbs {
		if ns, ok := readInt64(filepath.Join("/sys/fs/cgroup/cpuacct/runtools", sb.ID, "cpuacct.usage")); ok {
			total += time.Duration(ns)
		} else {
			total += time.Duration(statField(filepath.Join(cgroupV2Root, sb.ID, "cpu.stat"), "usage_usec")) * time.Microsecond
		}
	}
	return total
}

// daemonCPU returns the CPU time the runtools server has used, 0 if it
// cannot be read.
func daemonCPU(srv *server.Server) time.Duration {
	d, _ := host.ProcessCPU(srv.Pid())
	return d
}

// cgroupMemory returns a sandbox's memory use as the daemon counts it
// (internal/runtime/gvisor/usage.go): its memory cgroup's usage without
// the inactive page cache.
func cgroupMemory(id string) (int64, error) {
	v1 := filepath.Join(cgroupMemoryRoot, id)
	if usage, ok := readInt64(filepath.Join(v1, "memory.usage_in_bytes")); ok {
		return max(usage-statField(filepath.Join(v1, "memory.stat"), "total_inactive_file"), 0), nil
	}
	v2 := filepath.Join(cgroupV2Root, id)
	if usage, ok := readInt64(filepath.Join(v2, "memory.current")); ok {
		return max(usage-statField(filepath.Join(v2, "memory.stat"), "inactive_file"), 0), nil
	}
	return 0, fmt.Errorf("no memory cgroup for sandbox %s", id)
}

func readInt64(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var n int64
	_, err = fmt.Sscan(strings.TrimSpace(string(b)), &n)
	return n, err == nil
}

// statField returns the value of "key N" in a cgroup stat file, 0 if it
// is not there.
func statField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}
