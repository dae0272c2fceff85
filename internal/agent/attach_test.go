package agent_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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

// TestAttachCloseKills: closing the session (or losing the connection)
// ends the process group; on a TTY a process that ignores SIGHUP is killed
// after a grace period.
func TestAttachCloseKills(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	for _, tty := range []bool{false, true} {
		dir := t.TempDir()
		s := attach(t, c, agentapi.AttachRequest{
			Cmd: sh("trap '' HUP; sleep 60 & echo $! > " + dir + "/child; echo $$; wait"),
			TTY: tty,
		})
		out := collect(s.Stdout())
		pid, _ := strconv.Atoi(strings.TrimSpace(out.waitFor(t, "\n")))
		b, err := os.ReadFile(dir + "/child")
		if err != nil {
			t.Fatal(err)
		}
		child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		s.Close()
		if _, err := s.Wait(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Wait after Close: %v", err)
		}
		waitGone(t, pid)
		waitGone(t, child)
	}
}

// TestAttachHangupJobs: losing an interactive shell's connection ends its
// background jobs too, which job control puts in process groups of their
// own, even those that ignore SIGHUP.
func TestAttachHangupJobs(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s := attach(t, c, agentapi.AttachRequest{Cmd: []string{"sh"}, TTY: true, Env: map[string]string{"PS1": "$ "}})
	out := collect(s.Stdout())
	io.WriteString(s, "trap '' HUP; sleep 60 & echo \"job=$! shell=$$\"\n")
	// The terminal echoes the typed line, "shell=$$" and all, before the
	// shell has run it: wait for numbers.
	m := out.waitMatch(t, regexp.MustCompile(`job=(\d+) shell=(\d+)\r\n`))
	job, _ := strconv.Atoi(m[1])
	shell, _ := strconv.Atoi(m[2])
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(job) + "/stat"); err != nil || !strings.Contains(string(b), " "+strconv.Itoa(job)+" "+strconv.Itoa(shell)+" ") {
		t.Logf("job %d is not a group of its own in session %d: %q", job, shell, b)
	}
	s.Close()
	waitGone(t, shell)
	waitGone(t, job)
}

// TestAttachStdinNotRead: a caller blocked writing input the process does
// not read can still close the session, and the process is killed.
func TestAttachStdinNotRead(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	s, pid := attachSleeper(t, c)
	go s.Write(make([]byte, 16<<20)) // blocks: nobody reads it
	time.Sleep(300 * time.Millisecond)
	s.Close()
	waitGone(t, pid)
}

func TestAttachGrandchildHoldsOutput(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	for _, tty := range []bool{false, true} {
		start := time.Now()
		// The grandchild ignores the hangup a TTY session sends when the shell
		// exits, so that only the drain deadline can end the session.
		s := attach(t, c, agentapi.AttachRequest{Cmd: sh("trap \"\" HUP; sleep 3 & echo hi"), TTY: tty})
		out := collect(s.Stdout())
		if code := end(t, s, out); code != 0 || !strings.HasPrefix(out.String(), "hi") {
			t.Errorf("tty=%v: exit %d, output %q", tty, code, out.String())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("tty=%v: took %v; the grandchild held the session open", tty, d)
		}
	}
}

func TestAttachLargeOutput(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	const n = 5 << 20
	s := attach(t, c, agentapi.AttachRequest{Cmd: sh("head -c " + strconv.Itoa(n) + " /dev/zero; echo done >&2")})
	// Read stderr first: stdout waits in its buffer and then in the pipes.
	errOut := collect(s.Stderr())
	got, err := io.Copy(io.Discard, s.Stdout())
	if err != nil || got != n {
		t.Errorf("stdout: %d bytes, %v", got, err)
	}
	if code := end(t, s, errOut); code != 0 || errOut.String() != "done\n" {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestAttachListed(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	_, pid := attachSleeper(t, c)
	procs, err := c.Processes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range procs {
		found = found || (p.PID == pid && p.Running)
	}
	if !found {
		t.Errorf("attached process %d not in %+v", pid, procs)
	}
}

// TestUpgradeAuth: the upgrade routes check the token before anything
// else, Upgrade headers or not, and refuse requests without them.
func TestUpgradeAuth(t *testing.T) {
	t.Parallel()
	wrong, base := startWrongClient(t)
	ctx := context.Background()
	if _, err := wrong.Attach(ctx, agentapi.AttachRequest{Cmd: []string{"true"}}); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("Attach with a wrong token: %v", err)
	}
	if _, err := wrong.SFTP(ctx, ""); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("SFTP with a wrong token: %v", err)
	}

	for _, tc := range []struct{ path, proto, auth string }{
		{"/attach", agentapi.UpgradeAttach, ""},
		{"/attach", agentapi.UpgradeAttach, "Bearer wrong"},
		{"/sftp", agentapi.UpgradeSFTP, ""},
		{"/sftp", agentapi.UpgradeSFTP, "Bearer wrong"},
	} {
		status, body := rawUpgrade(t, base, tc.path, tc.proto, tc.auth)
		if status != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
			t.Errorf("%s with %q: %d %s", tc.path, tc.auth, status, body)
		}
	}
	// With the token but without the Upgrade headers: 400, no process.
	for _, path := range []string{"/attach", "/sftp"} {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(`{"cmd":["true"]}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if status, e := errorAnswer(t, req); status != http.StatusBadRequest || e.Code != "invalid_argument" {
			t.Errorf("%s without Upgrade: %d %+v", path, status, e)
		}
	}
}

// rawUpgrade sends an upgrade request by hand and returns the answer.
func rawUpgrade(t *testing.T, base, path, proto, auth string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	body := `{"cmd":["true"]}`
	req := "POST " + path + " HTTP/1.1\r\nHost: agent\r\nConnection: Upgrade\r\nUpgrade: " + proto +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
	if auth != "" {
		req += "Authorization: " + auth + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAttachOverhead compares attaching to `true` with an exec of it.
func TestAttachOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	c, _ := startAgent(t, agent.Config{})
	const n = 50
	timeIt := func(f func()) time.Duration {
		f() // warm up
		start := time.Now()
		for range n {
			f()
		}
		return time.Since(start) / n
	}
	execAvg := timeIt(func() { run(t, c, agentapi.ExecRequest{Cmd: []string{"true"}}) })
	attachAvg := timeIt(func() { attachTrue(t, c) })
	// Measured, not asserted: a shared machine's load moves it.
	t.Logf("true via exec: %v, via attach: %v", execAvg, attachAvg)
}
