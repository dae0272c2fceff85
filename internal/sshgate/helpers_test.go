package sshgate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

// Sandboxes of the fake backend: two teams, each with a sandbox named "web"
// (names are unique only within a team).
const (
	idA      = "sandbox-aaaaaaaa"
	idB      = "sandbox-bbbbbbbb"
	teamA    = "team-a"
	teamB    = "team-b"
	passA    = "correct horse battery staple"
	passB    = "hunter2 hunter2"
	webName  = "web"
	agentPrt = 49983
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

func (b *fakeBackend) lastOpen() Target {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.opens) == 0 {
		return Target{}
	}
	return b.opens[len(b.opens)-1]
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

func (s *fakeSandbox) lastAttach() Attach {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.attaches) == 0 {
		return Attach{}
	}
	return s.attaches[len(s.attaches)-1]
}

func (s *fakeSandbox) lastSession() *fakeSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) == 0 {
		return nil
	}
	return s.sessions[len(s.sessions)-1]
}

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

// testEnv is a gateway serving the fake backend on a loopback port.
type testEnv struct {
	t       *testing.T
	g       *Gateway
	be      *fakeBackend
	addr    string
	logs    *syncBuffer
	keyA    ssh.Signer // registered in team A
	keyB    ssh.Signer // registered in team B
	keyNone ssh.Signer // registered nowhere
	cancel  context.CancelFunc
	served  chan error
}

// newTestEnv starts a gateway; opts are func(*Config), run before New,
// func(*Gateway), run before Serve, and func(*fakeBackend).
func newTestEnv(t *testing.T, opts ...any) *testEnv {
	t.Helper()
	e := &testEnv{t: t, be: newFakeBackend(), logs: &syncBuffer{}}
	e.keyA, e.keyB, e.keyNone = newSigner(t), newSigner(t), newSigner(t)
	e.be.addKey(e.keyA.PublicKey(), teamA)
	e.be.addKey(e.keyB.PublicKey(), teamB)
	cfg := Config{HostKeyPath: filepath.Join(t.TempDir(), "ssh_host_ed25519_key"), ReservedPorts: []int{agentPrt}}
	for _, o := range opts {
		switch o := o.(type) {
		case func(*Config):
			o(&cfg)
		case func(*fakeBackend):
			o(e.be)
		}
	}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := New(cfg, e.be, log)
	if err != nil {
		t.Fatal(err)
	}
	g.passwordFloor = 60 * time.Millisecond
	g.keyFloor = 10 * time.Millisecond
	for _, o := range opts {
		if o, ok := o.(func(*Gateway)); ok {
			o(g)
		}
	}
	e.g = g
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.served = make(chan error, 1)
	go func() { e.served <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-e.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after its context ended")
		}
	})
	return e
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *testEnv) clientConfig(user string, auth ...ssh.AuthMethod) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(e.g.HostKey()),
		Timeout:         10 * time.Second,
	}
}

func (e *testEnv) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", e.addr, e.clientConfig(user, auth...))
}

// dialFrom connects from a given loopback address (127.0.0.0/8 all reach
// the listener), so tests can be several sources.
func (e *testEnv) dialFrom(src, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	nc, err := d.Dial("tcp", e.addr)
	if err != nil {
		return nil, err
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, e.addr, e.clientConfig(user, auth...))
	if err != nil {
		nc.Close()
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

func (e *testEnv) mustDial(user string, auth ...ssh.AuthMethod) *ssh.Client {
	e.t.Helper()
	c, err := e.dial(user, auth...)
	if err != nil {
		e.t.Fatalf("dial as %s: %v", user, err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// waitDone waits for the backend's done for one connection.
func (e *testEnv) waitDone() {
	e.t.Helper()
	select {
	case <-e.be.doneCh:
	case <-time.After(10 * time.Second):
		e.t.Fatal("Open's done was not called")
	}
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// lines returns the log lines containing every one of subs.
func (b *syncBuffer) lines(subs ...string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		ok := l != ""
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// run runs cmd in a new session and returns its stdout, stderr and error.
func run(t *testing.T, c *ssh.Client, cmd string) (stdout, stderr string, err error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdout, s.Stderr = &o, &e
	err = s.Run(cmd)
	return o.String(), e.String(), err
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("not an exit status: %v", err)
	}
	return ee.ExitStatus()
}
