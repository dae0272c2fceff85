package agent_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	tests := []struct {
		name string
		cmd  []string
		want int
	}{
		{"true", []string{"true"}, 0},
		{"exit 3", sh("exit 3"), 3},
		{"SIGKILL", sh("kill -KILL $$"), 137},
		{"SIGTERM", sh("kill -TERM $$"), 143},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, c, agentapi.ExecRequest{Cmd: tt.cmd})
			if res.exitCode != tt.want {
				t.Errorf("exit code = %d, want %d (events %+v)", res.exitCode, tt.want, res.events)
			}
			if res.events[0].Type != agentapi.EventStart || res.pid <= 0 {
				t.Errorf("first event = %+v, want start with a pid", res.events[0])
			}
			if last := res.events[len(res.events)-1]; last.Type != agentapi.EventExit {
				t.Errorf("last event = %+v, want exit", last)
			}
		})
	}
}

func TestExecOutput(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("printf out; printf err >&2; printf more")})
	if res.stdout != "outmore" || res.stderr != "err" || res.exitCode != 0 {
		t.Errorf("stdout=%q stderr=%q exit=%d", res.stdout, res.stderr, res.exitCode)
	}
}

// TestExecLargeOutput checks that all output is delivered before the exit
// event, in chunks no larger than 32 KiB.
func TestExecLargeOutput(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	const n = 5 << 20
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("head -c " + strconv.Itoa(n) + " /dev/zero; echo done >&2")})
	if len(res.stdout) != n || res.stderr != "done\n" {
		t.Fatalf("got %d stdout bytes, stderr %q; want %d", len(res.stdout), res.stderr, n)
	}
	for _, ev := range res.events {
		if len(ev.Data) > 32<<10 {
			t.Fatalf("event with %d bytes", len(ev.Data))
		}
	}
}

func TestExecStreamsLive(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("for i in 1 2 3; do echo $i; sleep 0.3; done")})
	var at []time.Duration
	for i, ev := range res.events {
		if ev.Type == agentapi.EventStdout {
			at = append(at, res.times[i])
		}
	}
	if res.stdout != "1\n2\n3\n" || len(at) != 3 {
		t.Fatalf("stdout %q in %d events", res.stdout, len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i] - at[i-1]; gap < 200*time.Millisecond {
			t.Errorf("stdout events %d and %d arrived %v apart; output is not live", i-1, i, gap)
		}
	}
}

func TestExecStdin(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	res := run(t, c, agentapi.ExecRequest{Cmd: []string{"cat"}, Stdin: []byte("hello\nworld\n")})
	if res.stdout != "hello\nworld\n" || res.exitCode != 0 {
		t.Errorf("cat stdout = %q, exit %d", res.stdout, res.exitCode)
	}
	// Without stdin, stdin is /dev/null: cat ends at once.
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"cat"}})
	if res.stdout != "" || res.exitCode != 0 {
		t.Errorf("cat without stdin = %q, exit %d", res.stdout, res.exitCode)
	}
	// A process that never reads a large stdin must not hang the exec.
	start := time.Now()
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"true"}, Stdin: make([]byte, 4<<20)})
	if res.exitCode != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("true with unread stdin: exit %d after %v", res.exitCode, time.Since(start))
	}
}

func TestExecEnv(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{Env: map[string]string{"FROM_IMAGE": "img", "LANG": "en_US.UTF-8"}})
	res := run(t, c, agentapi.ExecRequest{
		Cmd: sh(`echo "$FOO|$LANG|$HOME|$USER|$PATH|$FROM_IMAGE|$NODE_EXTRA_CA_CERTS"`),
		Env: map[string]string{"FOO": "bar baz"},
	})
	f := strings.Split(strings.TrimSpace(res.stdout), "|")
	if len(f) != 7 {
		t.Fatalf("output %q", res.stdout)
	}
	want := []string{"bar baz", "en_US.UTF-8", "/root", "root", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "img"}
	if !slices.Equal(f[:6], want) {
		t.Errorf("env = %q, want %q", f[:6], want)
	}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil && f[6] != "/etc/ssl/certs/ca-certificates.crt" {
		t.Errorf("NODE_EXTRA_CA_CERTS = %q", f[6])
	}
	// The agent's own secrets never reach a child.
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"env"}})
	if strings.Contains(res.stdout, testToken) || strings.Contains(res.stdout, "RUNTOOLS_AGENT") {
		t.Errorf("child environment leaks agent variables:\n%s", res.stdout)
	}
	// PATH from the request is used to find the executable.
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/hello-agent", []byte("#!/bin/sh\necho hi from path\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"hello-agent"}, Env: map[string]string{"PATH": dir + ":/usr/bin:/bin"}})
	if res.stdout != "hi from path\n" {
		t.Errorf("exec via request PATH: %+v", res)
	}
	if _, err := runErr(c, agentapi.ExecRequest{Cmd: []string{"true"}, Env: map[string]string{"A=B": "x"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad env key: err = %v", err)
	}
}

func TestExecCwd(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	dir := t.TempDir()
	res := run(t, c, agentapi.ExecRequest{Cmd: []string{"pwd"}, Cwd: dir})
	if strings.TrimSpace(res.stdout) != dir {
		t.Errorf("pwd = %q, want %q", res.stdout, dir)
	}
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"pwd"}})
	if home := strings.TrimSpace(res.stdout); home != "/root" && home != "/" {
		t.Errorf("default cwd = %q, want root's home", home)
	}
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"pwd"}, Cwd: "/does/not/exist"})
	if res.exitCode != 126 || len(res.errors) != 1 || !strings.Contains(res.errors[0], "/does/not/exist") {
		t.Errorf("bad cwd: %+v", res)
	}
	if res.events[0].Type != agentapi.EventError {
		t.Errorf("bad cwd: first event %+v, want error", res.events[0])
	}
}

func TestExecUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("id -u; id -g; echo $HOME $USER; pwd"), User: "nobody"})
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 4 || lines[0] != "65534" || lines[2] != "/nonexistent nobody" || lines[3] != "/" {
		t.Errorf("as nobody: %q (stderr %q)", lines, res.stderr)
	}
	res = run(t, c, agentapi.ExecRequest{Cmd: sh("id -u; id -g"), User: "1234:4321"})
	if res.stdout != "1234\n4321\n" {
		t.Errorf("as 1234:4321: %q %q", res.stdout, res.stderr)
	}
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"id", "-u"}, User: "no-such-user"})
	if res.exitCode != 126 || len(res.errors) != 1 || !strings.Contains(res.errors[0], "no-such-user") {
		t.Errorf("unknown user: %+v", res)
	}
	// Root's supplementary groups do not leak into a user's process.
	res = run(t, c, agentapi.ExecRequest{Cmd: []string{"id", "-G"}, User: "nobody"})
	if strings.TrimSpace(res.stdout) != "65534" {
		t.Errorf("nobody's groups = %q", res.stdout)
	}
}

func TestExecTimeout(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	start := time.Now()
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("echo before; sleep 30"), TimeoutMS: 300})
	if res.exitCode != 124 || !res.timedOut || res.stdout != "before\n" {
		t.Errorf("timeout: %+v", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestExecNotFound(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	for _, cmd := range []string{"no-such-command-xyz", "/no/such/path"} {
		res := run(t, c, agentapi.ExecRequest{Cmd: []string{cmd}})
		if res.exitCode != 127 || len(res.errors) != 1 || len(res.events) != 2 {
			t.Errorf("%s: %+v", cmd, res)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/noexec", []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, c, agentapi.ExecRequest{Cmd: []string{dir + "/noexec"}})
	if res.exitCode != 126 || len(res.errors) != 1 {
		t.Errorf("not executable: %+v", res)
	}
	if _, err := runErr(c, agentapi.ExecRequest{}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty cmd: err = %v", err)
	}
}

// waitGone waits until pid no longer exists (it was killed and reaped).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	if pid <= 0 {
		t.Fatal("no pid")
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(b), ") Z ") {
			return // dead; reaping orphans is its new parent's business
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d still alive", pid)
}

func collectPid(t *testing.T, c *agentclient.Client, pid int) (string, string, *agentapi.Event) {
	t.Helper()
	var out, errOut string
	var exit *agentapi.Event
	err := c.Output(context.Background(), pid, true, func(ev agentapi.Event) error {
		switch ev.Type {
		case agentapi.EventStdout:
			out += string(ev.Data)
		case agentapi.EventStderr:
			errOut += string(ev.Data)
		case agentapi.EventExit:
			exit = &ev
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Output(%d): %v", pid, err)
	}
	return out, errOut, exit
}

func waitOutput(t *testing.T, c *agentclient.Client, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var got string
		c.Output(context.Background(), pid, false, func(ev agentapi.Event) error { got += string(ev.Data); return nil })
		if strings.Contains(got, want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never printed %q", pid, want)
}

// TestExecDefaultsFromTheTemplate: a template's WORKDIR and USER are where
// and as whom a process runs when its request names neither.
func TestExecDefaultsFromTheTemplate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root")
	}
	t.Parallel()
	dir, err := os.MkdirTemp("", "workdir-") // t.TempDir's parent is closed to other users
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	c, _ := startAgent(t, agent.Config{Workdir: dir, User: "65534"})
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("pwd; id -u")})
	if res.stdout != dir+"\n65534\n" {
		t.Errorf("with the template's defaults: %q, want %s and 65534", res.stdout, dir)
	}
	res = run(t, c, agentapi.ExecRequest{Cmd: sh("pwd; id -u"), Cwd: "/", User: "root"})
	if res.stdout != "/\n0\n" {
		t.Errorf("a request's own cwd and user: %q", res.stdout)
	}
}
