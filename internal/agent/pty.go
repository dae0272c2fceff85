package agent

import (
	"cmp"
	"fmt"
	"os"
	"slices"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// newPTY allocates a PTY of cols x rows. The child gets the terminal as
// stdin, stdout and stderr; the agent keeps the master, from which it reads
// stdout and stderr merged.
func newPTY(cols, rows uint16) (*stdio, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("allocating a pty: %w", err)
	}
	master, err := pollable(m)
	if err != nil {
		tty.Close()
		return nil, fmt.Errorf("allocating a pty: %w", err)
	}
	st := &stdio{childIn: tty, childOut: tty, childErr: tty, out: master, pty: master, files: []*os.File{master, tty}}
	if err := setSize(master, cols, rows); err != nil {
		st.closeAll()
		return nil, fmt.Errorf("setting the pty's size: %w", err)
	}
	return st, nil
}

// pollable returns f, which it closes, as a new file on the same open
// terminal that the runtime's poller serves, so that read deadlines work:
// the agent ends a session once the shell has exited and its output is
// drained, even while a process it left holds the terminal. creack/pty's
// ioctls go through (*os.File).Fd, which puts a file in blocking mode for
// good, and a blocking read ignores deadlines.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("duplicating the pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("making the pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// setSize sets the size of the terminal whose master is m (defaults for
// zeros), keeping m non-blocking, as pty.Setsize would not.
func setSize(m *os.File, cols, rows uint16) error {
	ws := &unix.Winsize{Col: cmp.Or(cols, defaultCols), Row: cmp.Or(rows, defaultRows)}
	rc, err := m.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return err
	}
	return ierr
}

// foreground returns the foreground process group of the terminal whose
// master is m.
func foreground(m *os.File) (int, error) {
	rc, err := m.SyscallConn()
	if err != nil {
		return 0, err
	}
	var pgrp int
	var ierr error
	if err := rc.Control(func(fd uintptr) { pgrp, ierr = unix.IoctlGetInt(int(fd), unix.TIOCGPGRP) }); err != nil {
		return 0, err
	}
	return pgrp, ierr
}

// sessionGroups returns the process groups in the session the process
// leads. They come from /proc, because gVisor does not tell the terminal's
// foreground group to a process outside the session (TIOCGPGRP), and an
// interactive shell puts every job in a group of its own.
func (a *attachment) sessionGroups() []int {
	groups := []int{a.p.pid}
	eachStat("/proc", func(_ int, stat []byte) {
		if pgrp, sid, ok := parseStatGroup(stat); ok && sid == a.p.pid && !slices.Contains(groups, pgrp) {
			groups = append(groups, pgrp)
		}
	})
	return groups
}
