package sshgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Payloads of the session channel requests (RFC 4254 section 6).
type (
	ptyRequest struct {
		Term                      string
		Cols, Rows, Width, Height uint32
		Modes                     string
	}
	windowChange struct {
		Cols, Rows, Width, Height uint32
	}
	envRequest struct {
		Name, Value string
	}
	execRequest struct {
		Command string
	}
	subsystemRequest struct {
		Name string
	}
	signalRequest struct {
		Signal string
	}
	exitStatus struct {
		Status uint32
	}
)

// A session is one "session" channel: a shell, a command or SFTP.
type session struct {
	c   *connState
	log *slog.Logger
	ch  ssh.Channel

	// Set by requests before the process starts.
	tty        bool
	term       string
	cols, rows uint16
	env        map[string]string

	started bool
	proc    Session            // once a shell or command started
	sftp    io.ReadWriteCloser // once the sftp subsystem started
}

// serveSession runs a session channel until the client closes it or the
// connection ends; the process, if still running then, is closed.
func (c *connState) serveSession(ctx context.Context, nch ssh.NewChannel) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		c.log.DebugContext(ctx, "accepting an SSH session", "err", err)
		return
	}
	s := &session{c: c, log: c.log, ch: ch, env: make(map[string]string)}
	defer func() {
		if s.proc != nil {
			s.proc.Close()
		}
		if s.sftp != nil {
			s.sftp.Close()
		}
		ch.Close()
	}()
	for req := range reqs { // closed when the channel closes, from either side, or the connection ends
		ok, then := s.handle(ctx, req)
		if req.WantReply {
			req.Reply(ok, nil)
		}
		if then != nil {
			then() // after the reply, so the client sees it before any output or exit status
		}
	}
}

// handle answers one request; then, if not nil, starts the I/O once the
// reply is sent.
func (s *session) handle(ctx context.Context, req *ssh.Request) (ok bool, then func()) {
	switch req.Type {
	case "pty-req":
		var p ptyRequest
		if s.started || ssh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		s.tty, s.term, s.cols, s.rows = true, p.Term, clamp16(p.Cols), clamp16(p.Rows)
		return true, nil

	case "window-change":
		var w windowChange
		if ssh.Unmarshal(req.Payload, &w) != nil {
			return false, nil
		}
		s.cols, s.rows = clamp16(w.Cols), clamp16(w.Rows)
		if s.proc != nil {
			if err := s.proc.Resize(s.cols, s.rows); err != nil {
				s.log.DebugContext(ctx, "resizing an SSH session's terminal", "err", err)
				return false, nil
			}
		}
		return true, nil

	case "env":
		var e envRequest
		if s.started || ssh.Unmarshal(req.Payload, &e) != nil {
			return false, nil
		}
		if !envAllowed(e.Name) || !envValueAllowed(e.Value) {
			s.log.DebugContext(ctx, "refused an environment variable from an SSH client", "name", truncate(e.Name, 64))
			return false, nil
		}
		if _, ok := s.env[e.Name]; !ok && len(s.env) >= maxEnvVars {
			return false, nil
		}
		s.env[e.Name] = e.Value
		return true, nil

	case "signal":
		var sig signalRequest
		if ssh.Unmarshal(req.Payload, &sig) != nil || !signals[sig.Signal] || s.proc == nil {
			return false, nil
		}
		if err := s.proc.Signal(sig.Signal); err != nil {
			s.log.DebugContext(ctx, "signalling an SSH session's process", "signal", sig.Signal, "err", err)
			return false, nil
		}
		return true, nil

	case "shell":
		if s.started || len(req.Payload) != 0 {
			return false, nil
		}
		return s.start(ctx, nil)

	case "exec":
		var e execRequest
		if s.started || ssh.Unmarshal(req.Payload, &e) != nil {
			return false, nil
		}
		return s.start(ctx, []string{"/bin/sh", "-c", e.Command})

	case "subsystem":
		var sub subsystemRequest
		if s.started || ssh.Unmarshal(req.Payload, &sub) != nil || sub.Name != "sftp" {
			return false, nil
		}
		return s.startSFTP(ctx)
	}
	// x11-req, auth-agent-req@openssh.com, break, ...: not supported.
	return false, nil
}

// start attaches a process (the login shell if cmd is empty) to the channel.
func (s *session) start(ctx context.Context, cmd []string) (bool, func()) {
	s.started = true
	req := Attach{Cmd: cmd, Env: s.env, TTY: s.tty}
	if s.tty {
		req.Cols, req.Rows, req.Term = s.cols, s.rows, s.term
	}
	proc, err := s.c.sb.Attach(ctx, req)
	if err != nil {
		// Accept the request, then say why and exit 255 as ssh does when
		// it cannot run a command: the client shows the message.
		s.log.WarnContext(ctx, "starting an SSH session's process", "err", err)
		return true, func() {
			fmt.Fprintf(s.ch.Stderr(), "runtools: cannot start the session: %s%s", openFailure(err), s.eol())
			s.exit(255)
		}
	}
	s.proc = proc
	return true, func() { go s.run(ctx) }
}

// run carries a started process's I/O and, once it has exited and its
// output is delivered, sends its exit status and closes the channel.
func (s *session) run(ctx context.Context) {
	proc := s.proc
	go func() {
		if _, err := io.Copy(proc, s.ch); err != nil {
			s.log.DebugContext(ctx, "copying SSH input to the process", "err", err)
		}
		proc.CloseStdin()
	}()
	var out sync.WaitGroup
	out.Go(func() { io.Copy(s.ch, proc.Stdout()) })
	out.Go(func() { io.Copy(s.ch.Stderr(), proc.Stderr()) })

	code, err := proc.Wait()
	if err != nil {
		s.log.WarnContext(ctx, "waiting for an SSH session's process", "err", err)
		proc.Close() // ends Stdout and Stderr
		code = 255
	}
	out.Wait()
	if msg := proc.StartError(); msg != "" {
		fmt.Fprintf(s.ch.Stderr(), "%s%s", strings.TrimRight(msg, "\r\n"), s.eol())
		if code != 126 && code != 127 {
			code = startErrorCode(msg)
		}
	}
	if code < 0 {
		code = 255
	}
	s.exit(uint32(code))
}

// startErrorCode is the shell's exit code for a command that could not
// start: 126 if it was found but could not be run, else 127.
func startErrorCode(msg string) int {
	m := strings.ToLower(msg)
	if strings.Contains(m, "permission denied") || strings.Contains(m, "exec format error") ||
		strings.Contains(m, "is a directory") {
		return 126
	}
	return 127
}

// startSFTP pipes the channel to the sandbox's SFTP server, both ways.
func (s *session) startSFTP(ctx context.Context) (bool, func()) {
	s.started = true
	rwc, err := s.c.sb.SFTP(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "opening SFTP in the sandbox", "err", err)
		fmt.Fprintf(s.ch.Stderr(), "runtools: cannot start SFTP: %s\n", openFailure(err))
		return false, nil
	}
	s.sftp = rwc
	return true, func() {
		go func() {
			io.Copy(rwc, s.ch)
			closeWrite(rwc) // the client is done; the server finishes and ends the stream
		}()
		go func() {
			_, err := io.Copy(s.ch, rwc)
			if err != nil && !errors.Is(err, io.ErrClosedPipe) {
				s.log.DebugContext(ctx, "copying SFTP output", "err", err)
			}
			s.exit(0)
		}()
	}
}

// exit ends the channel as sshd does: EOF, exit-status, close.
func (s *session) exit(code uint32) {
	s.ch.CloseWrite()
	s.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: code}))
	s.ch.Close()
}

// eol ends a line the gateway writes to the client's terminal.
func (s *session) eol() string {
	if s.tty {
		return "\r\n"
	}
	return "\n"
}

// closeWrite half-closes w, or closes it if it cannot half-close.
func closeWrite(w io.Closer) {
	if cw, ok := w.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	w.Close()
}

func clamp16(v uint32) uint16 {
	return uint16(min(v, 0xffff))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
