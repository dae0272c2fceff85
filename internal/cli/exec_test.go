package cli

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/runtools/runtools/client"
)

func TestExecExitCode(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "my-env", "--", "exit", "3")
	if r.code != 3 {
		t.Fatalf("exit code = %d, want 3 (stderr %q)", r.code, r.stderr)
	}
	if r.stderr != "exiting\n" {
		t.Errorf("stderr = %q, want only the command's own stderr", r.stderr)
	}
}

func TestExecStreams(t *testing.T) {
	h := newHarness(t)
	r := h.run("sb", "exec", "my-env", "--", "both")
	if r.code != 0 || r.stdout != "out 1\nout 2\n" || r.stderr != "err 1\n" {
		t.Fatalf("got %+v", r)
	}
}

func TestExecSendsOptions(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "my-env", "--env", "A=1", "--env", "B=x=y", "--cwd", "/tmp", "--user", "1000",
		"--timeout", "1m30s", "--", "ls", "-la", "--", "x")
	if r.code != 0 {
		t.Fatalf("got %+v", r)
	}
	want := client.ExecRequest{
		Cmd: []string{"ls", "-la", "--", "x"}, Env: map[string]string{"A": "1", "B": "x=y"},
		Cwd: "/tmp", User: "1000", TimeoutMS: 90_000,
	}
	if !reflect.DeepEqual(h.fake.lastExec, want) {
		t.Errorf("request = %+v, want %+v", h.fake.lastExec, want)
	}
}

func TestExecArgv(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"my-env", "--", "ls", "-la"}, []string{"ls", "-la"}},
		{[]string{"my-env", "uname"}, []string{"uname"}},
		{[]string{"my-env", "git", "log", "--", "file"}, []string{"git", "log", "--", "file"}},
		{[]string{"my-env", "--", "sh", "-c", "echo a | wc -c"}, []string{"sh", "-c", "echo a | wc -c"}},
		{[]string{"--cwd", "/", "my-env", "--", "-weird"}, []string{"-weird"}},
	}
	for _, tt := range tests {
		h := newHarness(t)
		r := h.run(append([]string{"sandbox", "exec"}, tt.args...)...)
		if r.code != 0 {
			t.Errorf("%q: %+v", tt.args, r)
			continue
		}
		if !reflect.DeepEqual(h.fake.lastExec.Cmd, tt.want) {
			t.Errorf("%q: ran %q, want %q", tt.args, h.fake.lastExec.Cmd, tt.want)
		}
	}
}

func TestExecStdin(t *testing.T) {
	h := newHarness(t)
	h.stdin = "line 1\nline 2\n"
	r := h.run("sandbox", "exec", "my-env", "-i", "--env", "A=1", "--", "cat")
	if r.code != 0 || r.stdout != h.stdin {
		t.Fatalf("got %+v", r)
	}
	if want := (client.AttachRequest{Cmd: []string{"cat"}, Env: map[string]string{"A": "1"}}); !reflect.DeepEqual(h.fake.lastAttach, want) {
		t.Errorf("attach request %+v, want %+v", h.fake.lastAttach, want)
	}
	if h.fake.lastExec.Cmd != nil {
		t.Errorf("-i went through exec: %+v", h.fake.lastExec)
	}
	h = newHarness(t)
	h.stdin = "not sent"
	h.run("sandbox", "exec", "my-env", "--", "cat")
	if h.fake.lastExec.Stdin != nil || h.fake.lastAttach.Cmd != nil {
		t.Errorf("stdin sent without -i: %q", h.fake.lastExec.Stdin)
	}
}

func TestExecStdinExitCode(t *testing.T) {
	h := newHarness(t)
	if r := h.run("sandbox", "exec", "-i", "my-env", "--", "exit", "3"); r.code != 3 || r.stderr != "exiting\n" {
		t.Errorf("exit 3: %+v", r)
	}
	r := h.run("sandbox", "exec", "-i", "my-env", "--", "nope")
	if r.code != 127 || !strings.Contains(r.stderr, "executable file not found") {
		t.Errorf("nope: %+v", r)
	}
	if r := h.run("sandbox", "exec", "-i", "no-such-env", "--", "cat"); r.code != 1 || !strings.Contains(r.stderr, "sandbox list") {
		t.Errorf("unknown sandbox: %+v", r)
	}
}

func TestExecTTYNeedsATerminal(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "-it", "my-env", "--", "bash")
	if r.code != 2 || !strings.Contains(r.stderr, "-t needs a terminal on stdin") || !strings.Contains(r.stderr, "use -i alone") {
		t.Errorf("got %+v", r)
	}
	if r := h.run("sandbox", "exec", "-td", "my-env", "--", "bash"); r.code != 2 || !strings.Contains(r.stderr, "-t and -d") {
		t.Errorf("-t -d: %+v", r)
	}
}

func TestExecCannotStart(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "my-env", "nope")
	if r.code != 127 || !strings.Contains(r.stderr, `error: exec: "nope": executable file not found`) {
		t.Fatalf("got %+v", r)
	}
	r = h.run("sandbox", "exec", "my-env", "ls -la /tmp")
	if r.code != 127 || !strings.Contains(r.stderr, "sh -c 'ls -la /tmp'") {
		t.Fatalf("no sh -c hint for a spaced single argument: %+v", r)
	}
}

func TestExecTimeout(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "--timeout", "2s", "my-env", "--", "sleep", "10")
	if r.code != 124 || r.stdout != "sleeping\n" || r.stderr != "error: command timed out after 2s\n" {
		t.Fatalf("got %+v", r)
	}
}

func TestExecStreamLost(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "my-env", "--", "lost")
	if r.code != 1 || r.stdout != "partial\n" || !strings.Contains(r.stderr, "lost the connection") {
		t.Fatalf("got %+v", r)
	}
}

func TestExecBackground(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "-d", "my-env", "--", "sleep", "100")
	if r.code != 0 || r.stdout != "203\n" || !h.fake.lastExec.Background {
		t.Fatalf("got %+v, request %+v", r, h.fake.lastExec)
	}
}

func TestExecUnknownSandbox(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "ghost", "--", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "see `runtools sandbox list`") {
		t.Fatalf("got %+v", r)
	}
}

func TestExecFlagAfterCommandHint(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "my-env", "ls", "-la")
	if r.code != 2 || !strings.Contains(r.stderr, `put it after "--"`) {
		t.Fatalf("got %+v", r)
	}
}

// TestStdinOpen: exec -d --stdin-open starts a process whose stdin stays
// open; sandbox stdin sends the CLI's stdin to it and closes it at the end
// unless told to keep it open; sandbox ps shows whether it is open.
func TestStdinOpen(t *testing.T) {
	h := newHarness(t)
	r := h.run("sandbox", "exec", "-d", "--stdin-open", "my-env", "--", "python3", "-i")
	pid, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if r.code != 0 || err != nil || !h.fake.lastExec.StdinOpen {
		t.Fatalf("exec -d --stdin-open: %+v, request %+v", r, h.fake.lastExec)
	}
	psStdin := func() string {
		t.Helper()
		r := h.run("sandbox", "ps", "my-env")
		for _, line := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[0] == strconv.Itoa(pid) {
				return f[3]
			}
		}
		t.Fatalf("sandbox ps does not list %d: %+v", pid, r)
		return ""
	}
	if got := psStdin(); got != "open" {
		t.Errorf("sandbox ps after exec -d --stdin-open: STDIN %q, want open", got)
	}
	h.stdin = "print(6 * 7)\n"
	if r := h.run("sandbox", "stdin", "my-env", strconv.Itoa(pid), "--keep-open"); r.code != 0 || r.stdout != "" {
		t.Fatalf("stdin --keep-open: %+v", r)
	}
	in := h.fake.stdin[pid]
	if len(in.writes) != 1 || string(in.writes[0]) != h.stdin || in.closed {
		t.Fatalf("after --keep-open: %+v", in)
	}
	if got := psStdin(); got != "open" {
		t.Errorf("sandbox ps after stdin --keep-open: STDIN %q, want open", got)
	}
	h.stdin = "quit()\n"
	if r := h.run("sandbox", "stdin", "my-env", strconv.Itoa(pid)); r.code != 0 {
		t.Fatalf("stdin: %+v", r)
	}
	if len(in.writes) != 2 || !in.closed {
		t.Fatalf("after stdin to its end: %+v", in)
	}
	if got := psStdin(); got != "-" {
		t.Errorf("sandbox ps after stdin to its end: STDIN %q, want -", got)
	}
	r = h.run("sandbox", "stdin", "my-env", strconv.Itoa(pid))
	if r.code != 1 || !strings.Contains(r.stderr, "start it with stdin_open") {
		t.Errorf("a closed stdin: %+v", r)
	}
	if r := h.run("sandbox", "stdin", "my-env", "abc"); r.code != 2 || !strings.Contains(r.stderr, "PID must be a positive number") {
		t.Errorf("bad PID: %+v", r)
	}
	if r := h.run("sandbox", "exec", "-d", "-i", "--stdin-open", "my-env", "--", "cat"); r.code != 2 || !strings.Contains(r.stderr, "-i and --stdin-open") {
		t.Errorf("-d -i --stdin-open: %+v", r)
	}
	if r := h.run("sandbox", "exec", "--stdin-open", "my-env", "--", "cat"); r.code != 2 || !strings.Contains(r.stderr, "for background commands (-d)") {
		t.Errorf("--stdin-open without -d: %+v", r)
	}
}
