package agent

import (
	"errors"
	"log/slog"
	"os/exec"
	"sync"
	"syscall"
)

// spawner starts every child of the agent and keeps the set of children
// whose exit status belongs to an os/exec Wait. The orphan reaper never
// waits for a pid in that set, so it cannot steal an exit status.
//
// starting is read-held across Start and the registration, and write-held
// by the reaper while it decides: a child that exits at once is a zombie the
// reaper may see before Start has returned its pid, but by the time the
// reaper holds starting, every started child is registered. A read lock lets
// concurrent execs start in parallel.
type spawner struct {
	starting sync.RWMutex
	mu       sync.Mutex // guards live
	live     map[int]struct{}
	nproc    int
	log      *slog.Logger
}

func newSpawner(nproc int, log *slog.Logger) *spawner {
	return &spawner{live: make(map[int]struct{}), nproc: nproc, log: log}
}

// start starts cmd, registers its pid and applies the process limit.
//
// RLIMIT_NPROC is applied with prlimit(2) on the child right after Start
// (see setNprocLimit for how that is permitted without CAP_SYS_RESOURCE),
// rather than in the agent itself:
//
//   - The kernel (and gVisor, see kernel.userCounters.incRLimitNProc) checks
//     the limit against the rlimit of the task that calls fork, counting
//     processes per real uid. If the agent carried the limit, then after a
//     fork bomb the agent could not fork a `kill`, and even a new Go runtime
//     thread would fail and crash PID 1. With prlimit the agent keeps its own
//     unlimited headroom and only the children are bounded.
//   - A re-exec trampoline (the agent binary sets the limit, then execs the
//     command) closes the window below, but every exec would pay a second
//     execve plus the Go runtime's start-up, more than the whole sub-
//     millisecond budget for exec overhead.
//   - syscall.SysProcAttr has no rlimit field, and lowering the agent's
//     own limit around each fork has the first problem.
//
// The window: Start returns once the child has exec'd, so the new program
// runs for a few microseconds before prlimit lands. A program needs far
// longer than that (dynamic loader, libc and runtime start-up) before its
// first fork, and whatever it forks after prlimit inherits the limit.
// Soft and hard are both set so the child cannot raise it back.
func (sp *spawner) start(cmd *exec.Cmd) error {
	sp.starting.RLock()
	defer sp.starting.RUnlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	sp.mu.Lock()
	sp.live[pid] = struct{}{}
	sp.mu.Unlock()
	if sp.nproc > 0 {
		uid, gid := uint32(syscall.Getuid()), uint32(syscall.Getgid())
		if sa := cmd.SysProcAttr; sa != nil && sa.Credential != nil {
			uid, gid = sa.Credential.Uid, sa.Credential.Gid
		}
		if err := setNprocLimit(pid, sp.nproc, uid, gid); err != nil && !errors.Is(err, syscall.ESRCH) {
			sp.log.Warn("setting RLIMIT_NPROC", "pid", pid, "nproc", sp.nproc, "err", err)
		}
	}
	return nil
}

// wait waits for cmd (reaping it through os/exec), then unregisters it.
func (sp *spawner) wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	sp.mu.Lock()
	delete(sp.live, cmd.Process.Pid)
	sp.mu.Unlock()
	return err
}

// reap waits for each zombie in pids that is not a registered child, with
// wait4(pid, WNOHANG): never wait4(-1), which could take a registered
// child's status. It returns how many it reaped.
func (sp *spawner) reap(pids []int) int {
	sp.starting.Lock()
	defer sp.starting.Unlock()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	n := 0
	for _, pid := range pids {
		if _, ok := sp.live[pid]; ok {
			continue
		}
		var ws syscall.WaitStatus
		if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err == nil && got == pid {
			n++
		}
	}
	return n
}
