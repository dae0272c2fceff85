package sshgate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestExec(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	tests := []struct {
		cmd                string
		stdout, stderr     string
		code               int
		wantAttachCmd      []string
		stderrContainsOnly bool
	}{
		{cmd: "exit 3", code: 3},
		{cmd: "echo out; err oops; exit 0", stdout: "out\n", stderr: "oops\n"},
		{cmd: "exit 255", code: 255},
		{cmd: "no-such-cmd", code: 127, stderr: "exec: \"no-such-cmd\": executable file not found in $PATH\n"},
	}
	for _, tt := range tests {
		stdout, stderr, err := run(t, c, tt.cmd)
		if got := exitCode(t, err); got != tt.code {
			t.Errorf("%q: exit code %d, want %d", tt.cmd, got, tt.code)
		}
		if stdout != tt.stdout || stderr != tt.stderr {
			t.Errorf("%q: stdout %q stderr %q, want %q %q", tt.cmd, stdout, stderr, tt.stdout, tt.stderr)
		}
		got := e.be.sb.lastAttach()
		if want := []string{"/bin/sh", "-c", tt.cmd}; !slices.Equal(got.Cmd, want) || got.TTY {
			t.Errorf("%q: attached %+v, want Cmd %q without TTY", tt.cmd, got, want)
		}
	}

	// Stdin reaches the process, and its EOF ends cat.
	s := newSession(t, c)
	s.Stdin = strings.NewReader("line 1\nline 2\n")
	out, err := s.Output("cat; exit 4")
	if exitCode(t, err) != 4 || string(out) != "line 1\nline 2\n" {
		t.Errorf("cat: %q, %v", out, err)
	}

	// A process that cannot be attached: the client is told why.
	s = newSession(t, c)
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if err := s.Run("attach-fails"); err == nil || !strings.Contains(stderr.String(), "sandbox unavailable") {
		t.Errorf("attach failure: %v, stderr %q", err, stderr.String())
	}

	// Open once per connection, done once it ends.
	if _, _, opens, dones := e.be.counts(); opens != 1 || dones != 0 {
		t.Errorf("%d Open, %d done with the connection open, want 1, 0", opens, dones)
	}
	c.Close()
	e.waitDone()
}

func TestShellPTY(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(webName, ssh.Password(passA))
	s := newSession(t, c)
	if err := s.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 40, 100, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := s.StdinPipe()
	stdout, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	say := func(cmd string) string {
		t.Helper()
		if _, err := io.WriteString(stdin, cmd+"\n"); err != nil {
			t.Fatal(err)
		}
		var got []string
		for range 2 { // the echoed command, then its output
			l, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			got = append(got, strings.TrimSuffix(l, "\n"))
		}
		if got[0] != cmd {
			t.Fatalf("echo of %q: %q", cmd, got[0])
		}
		return got[1]
	}
	a := e.be.sb.lastAttach()
	if len(a.Cmd) != 0 || !a.TTY || a.Cols != 100 || a.Rows != 40 || a.Term != "xterm-256color" || a.Env["LANG"] != "C.UTF-8" {
		t.Errorf("attached %+v, want a login shell on a 100x40 xterm-256color TTY with LANG", a)
	}
	if got := say("size"); got != "100x40" {
		t.Errorf("size %q", got)
	}
	if err := s.WindowChange(50, 132); err != nil {
		t.Fatal(err)
	}
	// window-change wants no reply: wait until it has reached the process.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, _, n := e.be.sb.lastSession().size(); n > 0 {
			break
		}
	}
	if got := say("size"); got != "132x50" {
		t.Errorf("size after window-change %q", got)
	}
	if cols, rows, n := e.be.sb.lastSession().size(); cols != 132 || rows != 50 || n != 1 {
		t.Errorf("last Resize %dx%d (%d calls)", cols, rows, n)
	}
	io.WriteString(stdin, "exit 5\n")
	if code := exitCode(t, s.Wait()); code != 5 {
		t.Errorf("exit code %d", code)
	}
}

// exec with a PTY gets the TTY too.
func TestExecPTYAndSignal(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	s := newSession(t, c)
	if err := s.RequestPty("vt100", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("wait-signal"); err != nil {
		t.Fatal(err)
	}
	if a := e.be.sb.lastAttach(); !a.TTY || a.Term != "vt100" || !slices.Equal(a.Cmd, []string{"/bin/sh", "-c", "wait-signal"}) {
		t.Errorf("attached %+v", a)
	}
	if err := s.Signal(ssh.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, s.Wait()); code != 130 {
		t.Errorf("exit code %d after SIGINT, want 130", code)
	}
	if sigs := e.be.sb.lastSession().signals; !slices.Equal(sigs, []string{"INT"}) {
		t.Errorf("signals %q", sigs)
	}
}

func TestEnvAllowList(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	s := newSession(t, c)
	allowed := map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C", "TERM": "xterm", "TZ": "UTC", "MY_VAR2": "x", "_X": "y", "EDITOR": "vim"}
	denied := []string{"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "SSH_AUTH_SOCK", "RUNTOOLS_AGENT_TOKEN", "lowercase", "1ABC",
		"A-B", "", "BASH_ENV", "HOME", "X=Y"}
	for k, v := range allowed {
		if err := s.Setenv(k, v); err != nil {
			t.Errorf("Setenv(%s): %v", k, err)
		}
	}
	for _, k := range denied {
		if err := s.Setenv(k, "v"); err == nil {
			t.Errorf("Setenv(%q) accepted", k)
		}
	}
	if err := s.Setenv("BAD_VALUE", "a\x00b"); err == nil {
		t.Error("a NUL in a value accepted")
	}
	if err := s.Run("exit 0"); err != nil {
		t.Fatal(err)
	}
	got := e.be.sb.lastAttach().Env
	if len(got) != len(allowed) {
		t.Errorf("env %v, want %v", got, allowed)
	}
	for k, v := range allowed {
		if got[k] != v {
			t.Errorf("env %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestSFTP(t *testing.T) {
	e := newTestEnv(t)
	e.be.sb.sftpDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(e.be.sb.sftpDir, "there.txt"), []byte("from the sandbox"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, many packets
	f, err := sc.Create("up.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.be.sb.sftpDir, "up.bin")); !bytes.Equal(got, big) {
		t.Errorf("uploaded %d bytes, the sandbox has %d", len(big), len(got))
	}
	r, err := sc.Open("there.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "from the sandbox" {
		t.Errorf("download: %q, %v", got, err)
	}
	r.Close()

	// Any other subsystem is refused.
	s := newSession(t, c)
	if err := s.RequestSubsystem("netconf"); err == nil {
		t.Error("netconf subsystem accepted")
	}
}

func TestOpenFailure(t *testing.T) {
	e := newTestEnv(t, func(b *fakeBackend) {
		b.openErr = errors.Join(errors.New("runsc: no such container"), errdefs.ErrConflict)
	})
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	_, err := c.NewSession()
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ConnectionFailed || oce.Message != "sandbox is not running" {
		t.Fatalf("session on a sandbox that cannot open: %v", err)
	}
	if strings.Contains(err.Error(), "runsc") {
		t.Errorf("the client sees internals: %v", err)
	}
}

func TestKeepAlive(t *testing.T) {
	e := newTestEnv(t, func(g *Gateway) { g.keepAlive = 50 * time.Millisecond })
	p := newFreezableProxy(t, e.addr)
	cfg := e.clientConfig(idA, ssh.PublicKeys(e.keyA))
	c, err := ssh.Dial("tcp", p.addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A live client answers keep-alives: the connection stays.
	time.Sleep(400 * time.Millisecond)
	if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
		t.Fatalf("connection dropped while the client answered: %v", err)
	}
	if _, _, _, dones := e.be.counts(); dones != 0 {
		t.Fatal("done called on a live connection")
	}
	// A client that stops answering is dropped after 3 missed keep-alives.
	p.freeze()
	start := time.Now()
	e.waitDone()
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second { // a keep-alive may be in flight at the freeze
		t.Errorf("dropped %v after the client went silent, want 2-4 keep-alive intervals", d)
	}
	if got := e.logs.lines("stopped answering keep-alives"); len(got) != 1 {
		t.Errorf("log: %q", got)
	}
}

// Serve's context ending closes the connections.
func TestShutdown(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	s := newSession(t, c)
	if err := s.Start("wait-signal"); err != nil {
		t.Fatal(err)
	}
	e.cancel()
	select {
	case err := <-e.served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		e.served <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's connection stayed open")
	}
	e.waitDone()
}

// A freezableProxy forwards TCP connections until frozen, then stops
// reading from either side, as a network that drops packets.
type freezableProxy struct {
	ln     net.Listener
	frozen chan struct{}
}

func newFreezableProxy(t *testing.T, target string) *freezableProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezableProxy{ln: ln, frozen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				return
			}
			context.AfterFunc(ctx, func() { a.Close(); b.Close() })
			go p.copy(a, b)
			go p.copy(b, a)
		}
	}()
	return p
}

func (p *freezableProxy) addr() string { return p.ln.Addr().String() }
func (p *freezableProxy) freeze()      { close(p.frozen) }

func (p *freezableProxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.frozen:
			return // drop it, and read no more
		default:
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
