package sshgate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

// fakeSandboxRec is a sandbox as the fake backend knows it.
type fakeSandboxRec struct {
	id, name, team, password string
}

// fakeBackend implements Backend over an in-memory table. A known sandbox
// costs hashDelay on a password check, an unknown one nothing, as a naive
// backend would, so tests see the gateway's own equalisation.
type fakeBackend struct {
	hashDelay time.Duration // simulated password hash, for known sandboxes only
	keyDelay  time.Duration // simulated key lookup, for known sandboxes only
	sb        *fakeSandbox

	mu            sync.Mutex
	sandboxes     []fakeSandboxRec
	keys          map[string]string // key fingerprint -> team
	keyCalls      []string          // fingerprints, in call order
	passwordCalls int
	opens         []Target
	dones         int
	openErr       error
	doneCh        chan struct{}
}

var _ Backend = (*fakeBackend)(nil)

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		sb: newFakeSandbox(),
		sandboxes: []fakeSandboxRec{
			{id: idA, name: webName, team: teamA, password: passA},
			{id: idB, name: webName, team: teamB, password: passB},
		},
		keys:   make(map[string]string),
		doneCh: make(chan struct{}, 100),
	}
}

func (b *fakeBackend) addKey(k ssh.PublicKey, team string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keys[ssh.FingerprintSHA256(k)] = team
}

func (b *fakeBackend) revokeKey(k ssh.PublicKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, ssh.FingerprintSHA256(k))
}

func (b *fakeBackend) KeyLogin(ctx context.Context, user string, key ssh.PublicKey) (Target, error) {
	b.mu.Lock()
	b.keyCalls = append(b.keyCalls, ssh.FingerprintSHA256(key))
	team := b.keys[ssh.FingerprintSHA256(key)]
	var byID *fakeSandboxRec
	var byName *fakeSandboxRec
	for i, s := range b.sandboxes {
		if s.id == user {
			byID = &b.sandboxes[i]
		}
		if s.name == user && s.team == team && team != "" {
			byName = &b.sandboxes[i]
		}
	}
	b.mu.Unlock()
	switch {
	case byID != nil:
		time.Sleep(b.keyDelay)
		if byID.team != team {
			return Target{}, fmt.Errorf("key not registered in team %s: %w", byID.team, errdefs.ErrPermissionDenied)
		}
		return Target{SandboxID: byID.id, TeamID: byID.team}, nil
	case byName != nil:
		time.Sleep(b.keyDelay)
		return Target{SandboxID: byName.id, TeamID: byName.team}, nil
	}
	return Target{}, fmt.Errorf("sandbox %q: %w", user, errdefs.ErrNotFound)
}

func (b *fakeBackend) PasswordLogin(ctx context.Context, user, password string) (Target, error) {
	b.mu.Lock()
	b.passwordCalls++
	var rec *fakeSandboxRec
	var known bool
	for i, s := range b.sandboxes { // by ID, or by name in any team
		if s.id == user || s.name == user {
			known = true
			if password == s.password {
				rec = &b.sandboxes[i]
			}
		}
	}
	b.mu.Unlock()
	if !known {
		return Target{}, fmt.Errorf("sandbox %q: %w", user, errdefs.ErrNotFound)
	}
	time.Sleep(b.hashDelay)
	if rec == nil {
		return Target{}, fmt.Errorf("wrong password: %w", errdefs.ErrPermissionDenied)
	}
	return Target{SandboxID: rec.id, TeamID: rec.team}, nil
}

func (b *fakeBackend) Open(ctx context.Context, t Target) (Sandbox, func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opens = append(b.opens, t)
	if b.openErr != nil {
		return nil, nil, b.openErr
	}
	var once sync.Once
	return b.sb, func() {
		once.Do(func() {
			b.mu.Lock()
			b.dones++
			b.mu.Unlock()
			b.doneCh <- struct{}{}
		})
	}, nil
}

func (b *fakeBackend) counts() (passwordCalls, keyCalls, opens, dones int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.passwordCalls, len(b.keyCalls), len(b.opens), b.dones
}

func (b *fakeBackend) keyCallsSnapshot() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.keyCalls)
}

func (b *fakeBackend) lastOpen() Target { return lastOf(&b.mu, &b.opens) }

// lastOf returns the last of *list, read under mu, or the zero value when
// there is none.
func lastOf[T any](mu *sync.Mutex, list *[]T) T {
	mu.Lock()
	defer mu.Unlock()
	var last T
	if n := len(*list); n > 0 {
		last = (*list)[n-1]
	}
	return last
}

// fakeSandbox starts fakeSessions, serves SFTP from a directory with an
// in-process pkg/sftp server, and dials ports on a local echo server.
type fakeSandbox struct {
	sftpDir string
	echo    net.Listener // what Dial reaches, whatever the port

	mu       sync.Mutex
	attaches []Attach
	sessions []*fakeSession
	dials    []int
}

var _ Sandbox = (*fakeSandbox)(nil)

func newFakeSandbox() *fakeSandbox { return &fakeSandbox{} }

func (s *fakeSandbox) Attach(ctx context.Context, req Attach) (Session, error) {
	if len(req.Cmd) == 3 && req.Cmd[2] == "attach-fails" {
		return nil, fmt.Errorf("agent gone: %w", errdefs.ErrUnavailable)
	}
	fs := newFakeSession(req)
	s.mu.Lock()
	s.attaches = append(s.attaches, req)
	s.sessions = append(s.sessions, fs)
	s.mu.Unlock()
	return fs, nil
}

func (s *fakeSandbox) SFTP(ctx context.Context) (io.ReadWriteCloser, error) {
	if s.sftpDir == "" {
		return nil, fmt.Errorf("no sftp: %w", errdefs.ErrUnavailable)
	}
	ours, theirs := net.Pipe()
	srv, err := sftp.NewServer(theirs, sftp.WithServerWorkingDirectory(s.sftpDir))
	if err != nil {
		return nil, err
	}
	go func() {
		srv.Serve()
		srv.Close()
	}()
	return ours, nil
}

func (s *fakeSandbox) Dial(ctx context.Context, port int) (net.Conn, error) {
	s.mu.Lock()
	s.dials = append(s.dials, port)
	s.mu.Unlock()
	if s.echo == nil || port == 1 {
		return nil, errors.New("connection refused")
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.echo.Addr().String())
}

func (s *fakeSandbox) lastAttach() Attach { return lastOf(&s.mu, &s.attaches) }

func (s *fakeSandbox) lastSession() *fakeSession { return lastOf(&s.mu, &s.sessions) }

// fakeSession is an in-memory shell. A command (sh -c SCRIPT) runs the
// script; the login shell echoes each stdin line to stdout and runs it.
// Script commands, separated by ";" or newlines:
//
//	exit N         end with code N
//	echo WORDS     print WORDS
//	err WORDS      print WORDS on stderr
//	cat            copy stdin to stdout until EOF
//	getenv NAME    print the variable, or "<unset>"
//	size           print the last size as "COLSxROWS"
//	wait-signal    wait for a signal, then end with 128+its number
//	no-such-cmd    fail to start, as the agent reports a missing binary
type fakeSession struct {
	req Attach

	stdinR  *io.PipeReader
	stdinW  *io.PipeWriter
	stdoutR *io.PipeReader
	stdoutW *io.PipeWriter
	stderrR *io.PipeReader
	stderrW *io.PipeWriter

	sigs     chan string
	done     chan struct{}
	code     int
	startErr string

	mu         sync.Mutex
	cols, rows uint16
	resizes    int
	signals    []string
	closeOnce  sync.Once
}

var _ Session = (*fakeSession)(nil)

func newFakeSession(req Attach) *fakeSession {
	s := &fakeSession{req: req, cols: req.Cols, rows: req.Rows, sigs: make(chan string, 8), done: make(chan struct{})}
	s.stdinR, s.stdinW = io.Pipe()
	s.stdoutR, s.stdoutW = io.Pipe()
	s.stderrR, s.stderrW = io.Pipe()
	go s.run()
	return s
}

func (s *fakeSession) run() {
	code := 0
	defer func() {
		s.code = code
		s.stdinR.CloseWithError(io.ErrClosedPipe)
		s.stdoutW.Close()
		s.stderrW.Close()
		close(s.done)
	}()
	if len(s.req.Cmd) > 0 {
		script := s.req.Cmd[len(s.req.Cmd)-1]
		if script == "no-such-cmd" {
			s.startErr = `exec: "no-such-cmd": executable file not found in $PATH`
			code = -1
			return
		}
		for _, line := range strings.FieldsFunc(script, func(r rune) bool { return r == ';' || r == '\n' }) {
			if c, exit := s.exec(strings.TrimSpace(line)); exit {
				code = c
				return
			}
		}
		return
	}
	sc := bufio.NewScanner(s.stdinR)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(s.stdoutW, "%s\n", line)
		if c, exit := s.exec(strings.TrimSpace(line)); exit {
			code = c
			return
		}
	}
}

// exec runs one command; exit is true when the session ends.
func (s *fakeSession) exec(line string) (code int, exit bool) {
	name, arg, _ := strings.Cut(line, " ")
	switch name {
	case "exit":
		n, _ := strconv.Atoi(arg)
		return n, true
	case "echo":
		fmt.Fprintf(s.stdoutW, "%s\n", arg)
	case "err":
		fmt.Fprintf(s.stderrW, "%s\n", arg)
	case "cat":
		io.Copy(s.stdoutW, s.stdinR)
	case "getenv":
		v, ok := s.req.Env[arg]
		if !ok {
			v = "<unset>"
		}
		fmt.Fprintf(s.stdoutW, "%s\n", v)
	case "size":
		s.mu.Lock()
		fmt.Fprintf(s.stdoutW, "%dx%d\n", s.cols, s.rows)
		s.mu.Unlock()
	case "wait-signal":
		select {
		case sig := <-s.sigs:
			n := map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "TERM": 15}[sig]
			return 128 + n, true
		case <-s.done:
		}
	}
	return 0, false
}

func (s *fakeSession) Stdout() io.Reader           { return s.stdoutR }
func (s *fakeSession) Stderr() io.Reader           { return s.stderrR }
func (s *fakeSession) Write(p []byte) (int, error) { return s.stdinW.Write(p) }
func (s *fakeSession) CloseStdin() error           { return s.stdinW.Close() }
func (s *fakeSession) StartError() string          { <-s.done; return s.startErr }

func (s *fakeSession) Resize(cols, rows uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cols, s.rows = cols, rows
	s.resizes++
	return nil
}

func (s *fakeSession) size() (cols, rows uint16, resizes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cols, s.rows, s.resizes
}

func (s *fakeSession) Signal(name string) error {
	s.mu.Lock()
	s.signals = append(s.signals, name)
	s.mu.Unlock()
	select {
	case s.sigs <- name:
	default:
	}
	return nil
}

func (s *fakeSession) Wait() (int, error) {
	<-s.done
	return s.code, nil
}

func (s *fakeSession) Close() error {
	s.closeOnce.Do(func() {
		s.stdinW.CloseWithError(io.ErrClosedPipe)
		s.stdinR.CloseWithError(io.ErrClosedPipe)
		select {
		case s.sigs <- "KILL":
		default:
		}
	})
	return nil
}
