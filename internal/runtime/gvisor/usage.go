package gvisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Memory returns the memory the sandbox uses (without its inactive page
// cache, which the kernel drops first, as `docker stats` counts) and its
// limit, from its memory cgroup (v1, else v2).
func (r *Runtime) Memory(id string) (used, limit int64, err error) {
	v1 := filepath.Join("/sys/fs/cgroup/memory", r.cfg.CgroupParent, id)
	if usage, ok := readInt(filepath.Join(v1, "memory.usage_in_bytes")); ok {
		inactive, _ := readCounter(filepath.Join(v1, "memory.stat"), "total_inactive_file")
		limit, _ = readInt(filepath.Join(v1, "memory.limit_in_bytes"))
		return max(usage-int64(inactive), 0), limit, nil
	}
	v2 := filepath.Join("/sys/fs/cgroup", r.cfg.CgroupParent, id)
	if usage, ok := readInt(filepath.Join(v2, "memory.current")); ok {
		inactive, _ := readCounter(filepath.Join(v2, "memory.stat"), "inactive_file")
		limit, _ = readInt(filepath.Join(v2, "memory.max")) // "max": 0, no limit
		return max(usage-int64(inactive), 0), limit, nil
	}
	return 0, 0, fmt.Errorf("no memory accounting for sandbox %s", id)
}

func readInt(path string) (int64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n, err == nil
}

// Disk returns the space the sandbox's writable layer takes on disk. runsc
// keeps the layer in a file it unlinks at once, so it is found through the
// open files of the sandbox's processes. The processes are looked up once
// per sandbox and remembered while they live.
func (r *Runtime) Disk(id string) (int64, error) {
	r.diskMu.Lock()
	pids := r.diskPids[id]
	r.diskMu.Unlock()
	if n, ok := filestoreBlocks(pids); ok {
		return n, nil
	}
	pids = r.runscProcs()[id]
	r.diskMu.Lock()
	if r.diskPids == nil || len(r.diskPids) > 10000 {
		r.diskPids = map[string][]int{}
	}
	r.diskPids[id] = pids
	r.diskMu.Unlock()
	if n, ok := filestoreBlocks(pids); ok {
		return n, nil
	}
	return 0, fmt.Errorf("no writable layer found for sandbox %s", id)
}

// filestoreBlocks finds runsc's filestore among the open files of pids and
// returns the bytes it takes on disk.
func filestoreBlocks(pids []int) (int64, bool) {
	for _, pid := range pids {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err != nil || !strings.Contains(target, "/overlay/runsc-filestore") {
				continue
			}
			info, err := os.Stat(filepath.Join(dir, fd.Name()))
			if err != nil {
				continue
			}
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				return st.Blocks * 512, true
			}
		}
	}
	return 0, false
}

// OOMKills returns how many times the kernel has killed a process of the
// sandbox for memory, from its memory cgroup (v1 memory.oom_control, else
// v2 memory.events).
func (r *Runtime) OOMKills(id string) (int, error) {
	for _, p := range []string{
		filepath.Join("/sys/fs/cgroup/memory", r.cfg.CgroupParent, id, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", r.cfg.CgroupParent, id, "memory.events"),
	} {
		if n, ok := readCounter(p, "oom_kill"); ok {
			return n, nil
		}
	}
	return 0, fmt.Errorf("no memory events for sandbox %s", id)
}

// CPUThrottling returns how many scheduler periods the sandbox has had
// runnable tasks in and in how many of them it used up its CPU quota, from
// its cpu cgroup (v1 cpu/.../cpu.stat, else v2 cpu.stat).
func (r *Runtime) CPUThrottling(id string) (periods, throttled int64, err error) {
	for _, p := range []string{
		filepath.Join("/sys/fs/cgroup/cpu", r.cfg.CgroupParent, id, "cpu.stat"),
		filepath.Join("/sys/fs/cgroup", r.cfg.CgroupParent, id, "cpu.stat"),
	} {
		n, ok := readCounter(p, "nr_periods")
		if !ok {
			continue
		}
		th, ok := readCounter(p, "nr_throttled")
		if !ok {
			continue
		}
		return int64(n), int64(th), nil
	}
	return 0, 0, fmt.Errorf("no CPU throttling counters for sandbox %s", id)
}
