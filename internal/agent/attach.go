package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

const (
	// maxAttachBody bounds an attach request.
	maxAttachBody = 1 << 20
	// defaultTerm is TERM on a PTY when the request names none.
	defaultTerm = "xterm-256color"
	// Window size when the request gives none.
	defaultCols, defaultRows = 80, 24
	// hangupGrace is how long a TTY session's processes have to exit after
	// the SIGHUP of a lost connection before they are killed.
	hangupGrace = 2 * time.Second
	// stdinCheck is how often a write to a stdin the process does not read
	// stops to check that the caller is still connected.
	stdinCheck = time.Second
)

// handleAttach runs a process attached to the caller's connection: after
// "101 Switching Protocols" (agentapi.UpgradeAttach) the connection carries
// frames both ways (see agentapi.FrameStdin). A malformed request is
// answered with an error status; a process that cannot start (unknown user,
// executable or working directory) gets the 101 anyway, then FrameError and
// FrameExit 127 (not found) or 126, as exec reports it in its stream.
func (s *Server) handleAttach(w http.ResponseWriter, r *http.Request) error {
	if err := checkUpgrade(r, agentapi.UpgradeAttach); err != nil {
		return err
	}
	var req agentapi.AttachRequest
	if err := decodeRequest(w, r, maxAttachBody, "attach", &req); err != nil {
		return err
	}
	// All of the body is read before the connection changes hands.
	io.Copy(io.Discard, r.Body)
	if len(req.Cmd) > 0 && req.Cmd[0] == "" {
		return fmt.Errorf("%w: cmd[0] is empty", errdefs.ErrInvalidArgument)
	}
	if err := checkEnv(req.Env); err != nil {
		return err
	}
	conn, br, err := hijack(w)
	if err != nil {
		return err
	}
	untrack, ok := s.sessions.add(func() { conn.Close() })
	if !ok {
		return nil // the agent is shutting down
	}
	defer untrack()

	// The 101 waits in the buffer for the first frame, as exec's start
	// event does (see execForeground): a short command's whole answer then
	// leaves in one write.
	fw := &frameWriter{bw: bufio.NewWriterSize(conn, 64<<10)}
	fw.bw.WriteString(switching(agentapi.UpgradeAttach))
	a, err := s.startAttach(&req)
	if err != nil {
		s.log.Debug("attach failed to start", "cmd", req.Cmd, "err", err)
		fw.frame(agentapi.FrameError, []byte(errMessage(err)))
		fw.exit(startExitCode(err))
		fw.flush()
		closeGracefully(conn, br, nil)
		return nil
	}
	a.conn = conn
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		a.readFrames(br)
	}()
	a.pump(fw)
	closeGracefully(conn, br, readerDone)
	return nil
}

// attachment is a running attached process.
type attachment struct {
	log    *slog.Logger
	p      *process
	conn   net.Conn
	in     *os.File // stdin's write end, or the PTY master
	pty    *os.File // the PTY master; nil without a TTY
	hungUp sync.Once
}

// startAttach starts the process of req like exec does (user, environment,
// working directory, PATH, process limit), on a PTY or on pipes.
func (s *Server) startAttach(req *agentapi.AttachRequest) (*attachment, error) {
	env := req.Env
	if req.TTY {
		env = make(map[string]string, len(req.Env)+1)
		for k, v := range req.Env {
			env[k] = v
		}
		switch {
		case req.Term != "":
			env["TERM"] = req.Term
		case env["TERM"] == "":
			env["TERM"] = defaultTerm
		}
	}
	spec, err := s.resolve(req.User, env, req.Cwd, req.Cmd)
	if err != nil {
		return nil, err
	}
	var st *stdio
	var attr *syscall.SysProcAttr
	if req.TTY {
		if st, err = newPTY(req.Cols, req.Rows); err != nil {
			return nil, err
		}
		if spec.cred != nil && spec.cred.Uid != 0 {
			// As login(1) and sshd do: the user owns their terminal.
			st.childIn.Chown(int(spec.cred.Uid), -1)
		}
		// A session leader with the PTY (its stdin) as controlling
		// terminal, so that job control, ^C and SIGHUP work.
		attr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Credential: spec.cred}
	} else {
		if st, err = newPipes(true); err != nil {
			return nil, err
		}
		attr = &syscall.SysProcAttr{Setpgid: true, Credential: spec.cred}
	}
	p, err := s.start(spec, st, attr)
	if err != nil {
		return nil, err
	}
	a := &attachment{log: s.log, p: p, in: st.in, pty: st.pty}
	if a.pty != nil {
		// The master is both ends. process must not close it when the
		// process exits: its reader drains and closes it.
		a.in, p.stdin = a.pty, nil
	}
	p.events = make(chan agentapi.Event, 16)
	p.emit = func(ev agentapi.Event) { p.events <- ev }
	s.procs.add(p)
	p.run(s.spawner, nil, 0, s.procs.exited)
	s.log.Debug("attached process started", "pid", p.pid, "cmd", spec.argv, "user", spec.user.Name, "tty", req.TTY)
	return a, nil
}

// pump sends the process's output as it arrives, then its exit code once it
// has exited and its output is drained. A failed write means the caller is
// gone: the process is hung up on, and its output is still drained so that
// no goroutine is left behind.
func (a *attachment) pump(fw *frameWriter) {
	timer := time.NewTimer(startFlushDelay)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-a.p.events:
			if !ok {
				<-a.p.done
				fw.exit(a.p.exitCode)
				fw.flush()
				return
			}
			typ := agentapi.FrameStdout
			if ev.Type == agentapi.EventStderr {
				typ = agentapi.FrameStderr
			}
			if fw.frame(typ, ev.Data) != nil || fw.flush() != nil {
				a.hangup()
			}
		case <-timer.C:
			if fw.flush() != nil {
				a.hangup()
			}
		}
	}
}

// readFrames handles the caller's frames until the connection ends, which
// hangs up on the process if it still runs. Unknown frame types are
// ignored; an oversized frame ends the session.
func (a *attachment) readFrames(br *bufio.Reader) {
	var buf []byte
	for {
		typ, payload, err := agentapi.ReadFrame(br, &buf)
		if err != nil {
			a.hangup()
			return
		}
		switch typ {
		case agentapi.FrameStdin:
			if !a.writeStdin(payload) {
				a.hangup()
				return
			}
		case agentapi.FrameEOF:
			// A terminal has no end of input; on a PTY the shell ends on
			// `exit` or ^D, which the caller sends as stdin.
			if a.pty == nil {
				a.in.Close()
			}
		case agentapi.FrameResize:
			if a.pty != nil && len(payload) == 4 {
				cols, rows := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
				setSize(a.pty, cols, rows) // the kernel sends SIGWINCH
			}
		case agentapi.FrameSignal:
			a.signal(string(payload))
		}
	}
}

// writeStdin writes b to the process's stdin. While the process does not
// read, the write blocks, and with it the caller's next frames (back-
// pressure: the caller's writes block in turn); every stdinCheck it looks
// whether the caller hung up meanwhile, and if so returns false. That sees
// a reset (agentclient's Close) or a FIN; a FIN stuck behind input that
// fills the agent's receive window cannot be seen until the process reads,
// exits or writes output. Input the process can no longer take (it closed
// stdin or exited) is dropped.
func (a *attachment) writeStdin(b []byte) bool {
	for len(b) > 0 {
		a.in.SetWriteDeadline(time.Now().Add(stdinCheck))
		n, err := a.in.Write(b)
		b = b[n:]
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if peerClosed(a.conn) {
				return false
			}
			continue
		}
		if err != nil {
			return true
		}
	}
	return true
}

// peerClosed reports whether the other end of conn has closed or reset it,
// without reading what it sent before.
func peerClosed(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	err = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			closed = fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	return closed || err != nil
}

// signal signals the process group, or on a PTY the terminal's foreground
// process group (the job in front, as ^C would) where the kernel tells it:
// gVisor does not (see sessionGroups), and there the session leader's group
// gets it. Unknown names are ignored; so are signals after the process
// exited, as its pid may be reused.
func (a *attachment) signal(name string) {
	sig, err := parseSignal(name)
	if err != nil {
		a.log.Debug("attach: ignoring signal", "pid", a.p.pid, "signal", name, "err", err)
		return
	}
	if a.p.exitedAt.Load() != 0 {
		return
	}
	pgrp := a.p.pid
	if a.pty != nil {
		if fg, err := foreground(a.pty); err == nil && fg > 0 {
			pgrp = fg
		}
	}
	syscall.Kill(-pgrp, sig)
}

// hangup ends a process whose caller is gone, once. Without a TTY it kills
// the process group, as exec does. With one it does what a terminal hangup
// and logind do: SIGHUP (and SIGCONT, for stopped jobs) to every process
// group of the terminal's session (the shell's and its jobs'), then SIGKILL
// to the groups still in it hangupGrace later. A process that has exited
// already is left alone, and so are the processes it left behind.
func (a *attachment) hangup() {
	a.hungUp.Do(func() {
		if a.p.exitedAt.Load() != 0 {
			return
		}
		if a.pty == nil {
			a.p.kill()
			return
		}
		for _, g := range a.sessionGroups() {
			syscall.Kill(-g, syscall.SIGHUP)
			syscall.Kill(-g, syscall.SIGCONT)
		}
		time.AfterFunc(hangupGrace, func() {
			for _, g := range a.sessionGroups() {
				syscall.Kill(-g, syscall.SIGKILL)
			}
		})
	})
}

// frameWriter writes frames to the caller. After the first error it drops
// frames and returns that error.
type frameWriter struct {
	bw  *bufio.Writer
	err error
}

func (fw *frameWriter) frame(typ byte, payload []byte) error {
	if fw.err != nil {
		return fw.err
	}
	if len(payload) > agentapi.MaxFrame {
		payload = payload[:agentapi.MaxFrame]
	}
	hdr := agentapi.FrameHeader(typ, len(payload))
	if _, fw.err = fw.bw.Write(hdr[:]); fw.err == nil {
		_, fw.err = fw.bw.Write(payload)
	}
	return fw.err
}

func (fw *frameWriter) exit(code int) error {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(code)))
	return fw.frame(agentapi.FrameExit, b[:])
}

func (fw *frameWriter) flush() error {
	if fw.err == nil {
		fw.err = fw.bw.Flush()
	}
	return fw.err
}
