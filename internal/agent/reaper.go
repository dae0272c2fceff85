package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

const (
	// reapInterval is the slow safety-net scan in case a SIGCHLD was missed.
	reapInterval = 10 * time.Second
	// reapDelay holds a scan back after a SIGCHLD: most exits are of the
	// agent's own children, whose exec answers are still being written, and
	// a /proc scan running beside them would slow every exec down. A burst
	// of exits costs one scan, and an orphan zombie waiting this long is
	// harmless.
	reapDelay = 100 * time.Millisecond
)

// reapOrphans reaps zombies that were reparented to the agent (it runs as
// PID 1) but were not started by it through the spawner. It scans procDir on
// every SIGCHLD and every reapInterval until ctx is done.
func (sp *spawner) reapOrphans(ctx context.Context, procDir string) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	tick := time.NewTicker(reapInterval)
	defer tick.Stop()
	self := os.Getpid()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			select {
			case <-ctx.Done():
				return
			case <-time.After(reapDelay):
			}
		case <-tick.C:
		}
		pids, err := zombies(procDir, self)
		if err != nil {
			sp.log.Warn("scanning for zombies", "err", err)
		} else if len(pids) > 0 {
			if n := sp.reap(pids); n > 0 {
				sp.log.Debug("reaped orphans", "count", n)
			}
		}
	}
}

// zombies returns the pids under procDir that are zombies (state Z) and
// children of ppid.
func zombies(procDir string, ppid int) ([]int, error) {
	var out []int
	err := eachStat(procDir, func(pid int, stat []byte) {
		state, parent, ok := parseStat(stat)
		if ok && state == 'Z' && parent == ppid {
			out = append(out, pid)
		}
	})
	return out, err
}

// eachStat calls fn with the pid and /proc/<pid>/stat of every process under
// procDir.
func eachStat(procDir string, fn func(pid int, stat []byte)) error {
	d, err := os.Open(procDir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", procDir, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("listing %s: %w", procDir, err)
	}
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procDir, name, "stat"))
		if err != nil {
			continue // gone already
		}
		fn(pid, b)
	}
	return nil
}

// parseStat extracts the state and parent pid from /proc/<pid>/stat:
// "pid (comm) state ppid ...", where comm may itself contain spaces and
// parentheses, so parsing starts after the last ')'.
func parseStat(b []byte) (state byte, ppid int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], ppid, true
}

// parseStatGroup extracts the process group and session from
// /proc/<pid>/stat: "pid (comm) state ppid pgrp session ...".
func parseStatGroup(b []byte) (pgrp, session int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 4 {
		return 0, 0, false
	}
	pgrp, err1 := strconv.Atoi(string(f[2]))
	session, err2 := strconv.Atoi(string(f[3]))
	return pgrp, session, err1 == nil && err2 == nil
}
