package gvisor

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AdoptOrphans makes this process the reaper of the runsc processes it
// starts, and reaps them as they exit, until ctx ends.
//
// `runsc run --detach` leaves the sandbox and gofer processes without a
// parent; by default they go to PID 1, and `runsc delete` then waits a
// whole second for PID 1 to reap the sandbox. As a child subreaper the
// daemon reaps them itself within milliseconds. Only zombies whose command
// is "exe" are reaped: that is how runsc's re-executed sandbox, gofer and
// stub processes are named, while the daemon's own direct children (runsc,
// nft, template builds) are waited for by os/exec and must not be touched.
func AdoptOrphans(ctx context.Context) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return err
	}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGCHLD)
		defer signal.Stop(ch)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		self := os.Getpid()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
			case <-tick.C:
			}
			reapRunscZombies(self)
		}
	}()
	return nil
}

func reapRunscZombies(self int) {
	forEachProc("stat", func(pid int, data []byte) {
		comm, state, ppid, ok := parseStat(data)
		if !ok || state != 'Z' || ppid != self || comm != "exe" {
			return
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	})
}

// parseStat reads the command, state and parent out of /proc/PID/stat.
func parseStat(data []byte) (comm string, state byte, ppid int, ok bool) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open || end+4 >= len(data) {
		return "", 0, 0, false
	}
	fields := bytes.Fields(data[end+2:])
	if len(fields) < 2 {
		return "", 0, 0, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	return string(data[open+1 : end]), fields[0][0], ppid, err == nil
}
