package agent_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

func attach(t *testing.T, c *agentclient.Client, req agentapi.AttachRequest) *agentclient.AttachSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Attach(ctx, req)
	if err != nil {
		t.Fatalf("Attach(%v): %v", req.Cmd, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// attachSleeper attaches to a process that sleeps for a minute and returns
// the session and the process's pid.
func attachSleeper(t *testing.T, c *agentclient.Client) (*agentclient.AttachSession, int) {
	t.Helper()
	s := attach(t, c, agentapi.AttachRequest{Cmd: sh("echo $$; exec sleep 60")})
	pid, _ := strconv.Atoi(strings.TrimSpace(collect(s.Stdout()).waitFor(t, "\n")))
	return s, pid
}

// attachTrue attaches to `true` and waits for its exit code, 0.
func attachTrue(tb testing.TB, c *agentclient.Client) {
	tb.Helper()
	s, err := c.Attach(context.Background(), agentapi.AttachRequest{Cmd: []string{"true"}})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if code, err := s.Wait(); code != 0 || err != nil {
		tb.Fatalf("Wait = %d, %v", code, err)
	}
}

// output collects a stream in the background.
type output struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	err  error
}

func collect(r io.Reader) *output {
	o := &output{done: make(chan struct{})}
	go func() {
		defer close(o.done)
		b := make([]byte, 32<<10)
		for {
			n, err := r.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			o.mu.Unlock()
			if err != nil {
				if err != io.EOF {
					o.err = err
				}
				return
			}
		}
	}()
	return o
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output contains want, and returns it all.
func (o *output) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := o.String(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("output never contained %q; got %q", want, o.String())
	return ""
}

// waitMatch waits until the output matches re, and returns the submatches.
func (o *output) waitMatch(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("output never matched %s; got %q", re, o.String())
	return nil
}

// end waits for the process and its output.
func end(t *testing.T, s *agentclient.AttachSession, outs ...*output) int {
	t.Helper()
	code, err := s.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	for _, o := range outs {
		<-o.done
		if o.err != nil {
			t.Errorf("reading output: %v", o.err)
		}
	}
	return code
}

func TestAttachStdin(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s := attach(t, c, agentapi.AttachRequest{Cmd: []string{"cat"}})
	out, errOut := collect(s.Stdout()), collect(s.Stderr())
	if _, err := io.WriteString(s, "hello\n"); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, "hello\n")                                // echoed while cat still runs
	big := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB, several frames
	if _, err := s.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	if code := end(t, s, out, errOut); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if got := out.String(); got != "hello\n"+string(big) {
		t.Errorf("stdout: %d bytes, want %d", len(got), 6+len(big))
	}
	if errOut.String() != "" || s.StartError() != "" {
		t.Errorf("stderr %q, start error %q", errOut.String(), s.StartError())
	}
}

func TestAttachExitCodesAndStderr(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})

	s := attach(t, c, agentapi.AttachRequest{Cmd: sh("echo out; echo err >&2; exit 3")})
	out, errOut := collect(s.Stdout()), collect(s.Stderr())
	if code := end(t, s, out, errOut); code != 3 || out.String() != "out\n" || errOut.String() != "err\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}

	s = attach(t, c, agentapi.AttachRequest{Cmd: []string{"true"}})
	if code := end(t, s); code != 0 {
		t.Errorf("true: exit %d", code)
	}

	s = attach(t, c, agentapi.AttachRequest{Cmd: sh("echo ready; sleep 60")})
	out = collect(s.Stdout())
	out.waitFor(t, "ready")
	if err := s.Signal("KILL"); err != nil {
		t.Fatal(err)
	}
	if code := end(t, s, out); code != 137 {
		t.Errorf("after KILL: exit %d", code)
	}

	// TERM reaches the whole group: the shell's child too.
	s = attach(t, c, agentapi.AttachRequest{Cmd: sh("trap 'echo term; exit 9' TERM; echo ready; sleep 60 & wait")})
	out = collect(s.Stdout())
	out.waitFor(t, "ready")
	s.Signal("SIGTERM")
	if code := end(t, s, out); code != 9 || out.String() != "ready\nterm\n" {
		t.Errorf("after TERM: exit %d, stdout %q", code, out.String())
	}
}

func TestAttachNotFound(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s := attach(t, c, agentapi.AttachRequest{Cmd: []string{"no-such-command-xyz"}, TTY: true})
	if code := end(t, s); code != 127 || !strings.Contains(s.StartError(), "no-such-command-xyz") {
		t.Errorf("not found: exit %d, start error %q", code, s.StartError())
	}
	s = attach(t, c, agentapi.AttachRequest{Cmd: []string{"pwd"}, Cwd: "/does/not/exist"})
	if code := end(t, s); code != 126 || !strings.Contains(s.StartError(), "/does/not/exist") {
		t.Errorf("bad cwd: exit %d, start error %q", code, s.StartError())
	}
	s = attach(t, c, agentapi.AttachRequest{Cmd: []string{"true"}, User: "no-such-user"})
	if code := end(t, s); code != 126 || !strings.Contains(s.StartError(), "no-such-user") {
		t.Errorf("unknown user: exit %d, start error %q", code, s.StartError())
	}
	// Malformed requests are refused before the upgrade.
	ctx := context.Background()
	if _, err := c.Attach(ctx, agentapi.AttachRequest{Cmd: []string{"true"}, Env: map[string]string{"A=B": "x"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad env: %v", err)
	}
	if _, err := c.Attach(ctx, agentapi.AttachRequest{Cmd: []string{""}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty cmd[0]: %v", err)
	}
}

func TestAttachTTY(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s := attach(t, c, agentapi.AttachRequest{
		Cmd: sh(`stty size; echo "$TERM"; tty -s && echo tty; read x; echo "got $x"; echo err >&2`),
		TTY: true, Cols: 80, Rows: 24,
	})
	out, errOut := collect(s.Stdout()), collect(s.Stderr())
	out.waitFor(t, "tty\r\n")
	io.WriteString(s, "hi\n")
	if code := end(t, s, out, errOut); code != 0 {
		t.Errorf("exit %d", code)
	}
	// The terminal echoes the input and turns \n into \r\n; stderr is the
	// terminal too.
	if want := "24 80\r\nxterm-256color\r\ntty\r\nhi\r\ngot hi\r\nerr\r\n"; out.String() != want || errOut.String() != "" {
		t.Errorf("stdout %q, want %q; stderr %q", out.String(), want, errOut.String())
	}

	s = attach(t, c, agentapi.AttachRequest{Cmd: sh(`echo "$TERM"; stty size`), TTY: true, Term: "vt100"})
	out = collect(s.Stdout())
	end(t, s, out)
	if out.String() != "vt100\r\n24 80\r\n" {
		t.Errorf("default size and TERM=vt100: %q", out.String())
	}
}

// TestAttachTTYInteractive drives an interactive shell: resize, ^C through
// a signal to the foreground job, exit.
func TestAttachTTYInteractive(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s := attach(t, c, agentapi.AttachRequest{
		Cmd: []string{"sh"}, TTY: true, Cols: 100, Rows: 30,
		Env: map[string]string{"PS1": "$ "},
	})
	out := collect(s.Stdout())
	io.WriteString(s, "stty size\n")
	out.waitFor(t, "30 100\r\n")
	if err := s.Resize(132, 43); err != nil {
		t.Fatal(err)
	}
	io.WriteString(s, "stty size\n")
	out.waitFor(t, "43 132\r\n")

	// The foreground job gets the signal, not the shell.
	io.WriteString(s, "sleep 60\n")
	time.Sleep(200 * time.Millisecond)
	s.Signal("INT")
	io.WriteString(s, "echo status=$?\n")
	out.waitFor(t, "status=130")

	io.WriteString(s, "exit 5\n")
	if code := end(t, s, out); code != 5 {
		t.Errorf("exit %d; output %q", code, out.String())
	}
}

func TestAttachLoginShell(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	shell := "/bin/sh"
	if b, err := os.ReadFile("/etc/passwd"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Split(line, ":"); len(f) > 6 && f[2] == strconv.Itoa(os.Geteuid()) && f[6] != "" {
				if _, err := os.Stat(f[6]); err == nil {
					shell = f[6]
				}
				break
			}
		}
	}
	for _, tty := range []bool{false, true} {
		s := attach(t, c, agentapi.AttachRequest{TTY: tty, Env: map[string]string{"PS1": "$ "}})
		out := collect(s.Stdout())
		go io.Copy(io.Discard, s.Stderr())
		io.WriteString(s, "echo \"zero=$0\"; exit\n")
		if code := end(t, s, out); code != 0 {
			t.Errorf("tty=%v: exit %d", tty, code)
		}
		if want := "zero=-" + filepath.Base(shell); !strings.Contains(out.String(), want) {
			t.Errorf("tty=%v: output %q, want %q", tty, out.String(), want)
		}
	}
}
