package gvisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Exit says how a sandbox ended. Its fields match sandbox.Exit.
type Exit struct {
	OOM    bool
	Detail string
}

// Wait blocks until the sandbox's runsc process ends or ctx is done. The
// sandbox is not a child of the daemon (it outlives daemon restarts), so
// it is watched through a pidfd.
func (r *Runtime) Wait(ctx context.Context, id string) (Exit, error) {
	st, err := r.state(ctx, id)
	if err != nil {
		return Exit{}, err
	}
	if st.PID <= 0 || st.Status == "stopped" {
		return r.exit(id, st.Bundle, st.PID, -1), nil // ended before the watch began
	}
	fd, err := unix.PidfdOpen(st.PID, 0)
	if errors.Is(err, unix.ESRCH) {
		return r.exit(id, st.Bundle, st.PID, -1), nil
	}
	if err != nil {
		return Exit{}, fmt.Errorf("watching sandbox %s (pid %d): %w", id, st.PID, err)
	}
	defer unix.Close(fd)
	lastOOM, lastSeen := r.oomKills(id), time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return Exit{}, err
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 500)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return Exit{}, fmt.Errorf("watching sandbox %s: %w", id, err)
		}
		if n > 0 {
			if err := ctx.Err(); err != nil {
				return Exit{}, err // no longer wanted: the caller stopped it
			}
			return r.exit(id, st.Bundle, st.PID, lastOOM), nil
		}
		if now := time.Now(); now.Sub(lastSeen) > 2*time.Second {
			lastOOM, lastSeen = r.oomKills(id), now
		}
	}
}

// exit explains the end of sandbox id, whose process was pid: out of
// memory when the kernel killed a task in its memory cgroup recently, else
// a crash, with how the process ended and the console's tail in the log.
func (r *Runtime) exit(id, bundle string, pid, before int) Exit {
	if n := r.oomKills(id); before >= 0 && n > before {
		// gVisor and the sandbox's processes share one memory cgroup
		// (google/gvisor#2535): one allocation far past the limit can make
		// the host's OOM killer take gVisor itself.
		return Exit{OOM: true, Detail: "out of memory: the host's OOM killer stopped the sandbox (an allocation far past its memory does this; give it more memory)"}
	}
	detail := "the sandbox process exited unexpectedly"
	for range 20 { // the reaper gets to it within milliseconds
		reapRunscZombies(os.Getpid())
		if how, ok := reaped.of(pid); ok {
			detail = how
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.log.Warn("sandbox process exited unexpectedly", "sandbox", id, "how", detail,
		"console_tail", tail(filepath.Join(filepath.Dir(bundle), "console.log"), 2048))
	return Exit{Detail: detail}
}

// oomKills reads how many tasks the kernel's OOM killer has killed in the
// sandbox's memory cgroup (cgroup v1 memory.oom_control, or v2 memory.events).
func (r *Runtime) oomKills(id string) int {
	for _, p := range []string{
		filepath.Join("/sys/fs/cgroup/memory", r.cfg.CgroupParent, id, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", r.cfg.CgroupParent, id, "memory.events"),
	} {
		if n, ok := readCounter(p, "oom_kill"); ok {
			return n
		}
	}
	return 0
}

func readCounter(path, key string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// CPUTime is the CPU time the sandbox has used, from its cgroup.
func (r *Runtime) CPUTime(id string) (time.Duration, error) {
	if n, ok := readInt(filepath.Join("/sys/fs/cgroup/cpuacct", r.cfg.CgroupParent, id, "cpuacct.usage")); ok {
		return time.Duration(n), nil
	}
	if n, ok := readCounter(filepath.Join("/sys/fs/cgroup", r.cfg.CgroupParent, id, "cpu.stat"), "usage_usec"); ok {
		return time.Duration(n) * time.Microsecond, nil
	}
	return 0, fmt.Errorf("no CPU accounting for sandbox %s", id)
}
