package gvisor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runscProcs finds the processes of this runtime's runsc root and the
// sandbox each belongs to: `runsc run`, the gofer and the sandbox itself
// all carry --root and --bundle=<sandbox dir>/bundle on their command
// line. A daemon killed in the middle of `runsc run` leaves such processes
// behind with no state file yet, so `runsc list` alone cannot see them.
func (r *Runtime) runscProcs() map[string][]int {
	out := map[string][]int{}
	rootFlag := "--root=" + r.cfg.Root
	forEachProc("cmdline", func(pid int, data []byte) {
		var hasRoot bool
		var id string
		for _, a := range strings.Split(string(data), "\x00") {
			switch {
			case a == rootFlag:
				hasRoot = true
			case strings.HasPrefix(a, "--bundle="):
				id = filepath.Base(filepath.Dir(strings.TrimPrefix(a, "--bundle=")))
			}
		}
		if hasRoot && id != "" {
			out[id] = append(out[id], pid)
		}
	})
	return out
}

// forEachProc calls fn with the pid of each process and the content of its
// /proc/<pid>/<file>, passing over the processes gone in the meantime.
func forEachProc(file string, fn func(pid int, data []byte)) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/" + file)
		if err != nil {
			continue
		}
		fn(pid, data)
	}
}

// killProcs SIGKILLs what is left of a sandbox's processes and waits
// briefly for them to go.
func (r *Runtime) killProcs(id string) {
	pids := r.runscProcs()[id]
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range pids {
		for processAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// removeCgroups removes the sandbox's (empty) cgroup directories, which
// runsc leaves behind when its sandbox dies before `runsc delete`.
func (r *Runtime) removeCgroups(id string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", r.cfg.CgroupParent, id))
	if d := filepath.Join("/sys/fs/cgroup", r.cfg.CgroupParent, id); dirExists(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		_ = syscall.Rmdir(d)
	}
}

// socketDirs are where runsc makes a sandbox's control socket,
// runsc-<id>.sock: the first of them where it can bind one, after its root.
var socketDirs = []string{"/var/run", "/run", "/tmp"}

// removeSockets removes the control sockets runsc made for the sandbox. A
// sandbox killed before `runsc delete` leaves its socket behind, and each
// one left pushes the next start of that sandbox (a resume) to the next
// directory, until none is left and the start fails.
func (r *Runtime) removeSockets(id string) {
	name := "runsc-" + id + ".sock"
	for _, dir := range append([]string{r.cfg.Root}, socketDirs...) {
		p := filepath.Join(dir, name)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(p)
		}
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
