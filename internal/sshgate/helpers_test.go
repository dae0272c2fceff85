package sshgate

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
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

// newSession opens a session on c, failing the test if it cannot.
func newSession(t *testing.T, c *ssh.Client) *ssh.Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	return s
}

// run runs cmd in a new session and returns its stdout, stderr and error.
func run(t *testing.T, c *ssh.Client, cmd string) (stdout, stderr string, err error) {
	t.Helper()
	s := newSession(t, c)
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
