package gvisor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
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
		if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil && got == pid {
			reaped.record(pid, ws)
		}
	})
}

// reaped keeps how the runsc processes the daemon reaped in the last
// minute ended, so that a sandbox's crash can say so ("exit signal 9").
var reaped = &exits{m: map[int]exitRecord{}}

type exitRecord struct {
	ws unix.WaitStatus
	at time.Time
}

type exits struct {
	mu sync.Mutex
	m  map[int]exitRecord
}

func (e *exits) record(pid int, ws unix.WaitStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	for p, r := range e.m {
		if now.Sub(r.at) > time.Minute {
			delete(e.m, p)
		}
	}
	e.m[pid] = exitRecord{ws: ws, at: now}
}

// of says how the process pid ended, if the daemon reaped it.
func (e *exits) of(pid int) (string, bool) {
	e.mu.Lock()
	r, ok := e.m[pid]
	e.mu.Unlock()
	switch {
	case !ok:
		return "", false
	case r.ws.Signaled():
		return fmt.Sprintf("exit signal %d (%s)", int(r.ws.Signal()), unix.SignalName(r.ws.Signal())), true
	default:
		return fmt.Sprintf("exit code %d", r.ws.ExitStatus()), true
	}
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
