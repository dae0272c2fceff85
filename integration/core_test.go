package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestReadmeFlow is the README's first five minutes, through the CLI.
func TestReadmeFlow(t *testing.T) {
	s := startServer(t)
	out, errOut, code := s.cli(t, "", "sandbox", "create", "--name", "my-env", "--template", "base", "-o", "json")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	var sb client.Sandbox
	if err := json.Unmarshal([]byte(out), &sb); err != nil {
		t.Fatalf("create -o json: %v: %s", err, out)
	}
	if !strings.HasPrefix(sb.ID, "sandbox-") || sb.State != "running" || sb.Name != "my-env" {
		t.Fatalf("created %+v", sb)
	}
	out, errOut, code = s.cli(t, "", "sandbox", "exec", "my-env", "--", "sh", "-c", "node --version; bun --version; git --version; python3 --version")
	if code != 0 {
		t.Fatalf("exec versions: exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"v2", "git version", "Python 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("versions output lacks %q:\n%s", want, out)
		}
	}
	if _, _, code = s.cli(t, "", "sandbox", "exec", "my-env", "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit code: got %d, want 7", code)
	}
	out, _, code = s.cli(t, "", "sandbox", "list")
	if code != 0 || !strings.Contains(out, "my-env") {
		t.Errorf("list: exit %d:\n%s", code, out)
	}
	out, _, code = s.cli(t, "", "sandbox", "get", "my-env", "-o", "json")
	var got client.Sandbox
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.ID != sb.ID || got.State != "running" {
		t.Errorf("get -o json: exit %d: %s", code, out)
	}
	if _, errOut, code = s.cli(t, "", "sandbox", "destroy", "my-env"); code != 0 {
		t.Fatalf("destroy: exit %d: %s", code, errOut)
	}
	assertGone(t, s, sb.ID)
	if _, err := s.client().Exec(ctxT(t, time.Minute), sb.ID, client.ExecRequest{Cmd: []string{"true"}}); !errors.Is(err, client.ErrConflict) {
		t.Errorf("exec in a destroyed sandbox: %v, want conflict", err)
	}
	if _, errOut, code = s.cli(t, "", "sandbox", "get", "my-env"); code == 0 || !strings.Contains(errOut, "no sandbox") {
		t.Errorf("get after destroy: exit %d: %s", code, errOut)
	}
	// The name is free again.
	if _, errOut, code = s.cli(t, "", "sandbox", "create", "--name", "my-env", "-q"); code != 0 {
		t.Errorf("create with a reused name: exit %d: %s", code, errOut)
	}
}

// assertGone checks that nothing of a destroyed sandbox is left on the host.
func assertGone(t *testing.T, s *server, id string) {
	t.Helper()
	for _, c := range runscIDs(s) {
		if c == id {
			t.Errorf("runsc still has %s", id)
		}
	}
	for _, n := range netnsList(s) {
		if strings.HasSuffix(n, id) {
			t.Errorf("network namespace %s left", n)
		}
	}
	if fileExists(filepath.Join(s.dataDir, "sandboxes", id)) {
		t.Errorf("directory of %s left", id)
	}
	if data, _ := os.ReadFile("/proc/mounts"); bytes.Contains(data, []byte(id)) {
		t.Errorf("mounts of %s left", id)
	}
}

func TestExec(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{Env: map[string]string{"FROM_CREATE": "yes"}})
	ctx := ctxT(t, 2*time.Minute)

	t.Run("streams live", func(t *testing.T) {
		var stamps []time.Time
		code, err := sb.ExecStream(ctx, client.ExecRequest{Cmd: []string{"sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.4; done"}},
			client.StreamOptions{OnEvent: func(ev client.Event) {
				if ev.Type == client.EventStdout {
					stamps = append(stamps, time.Now())
				}
			}})
		if err != nil || code != 0 {
			t.Fatalf("exec: %d %v", code, err)
		}
		if len(stamps) < 3 || stamps[len(stamps)-1].Sub(stamps[0]) < 600*time.Millisecond {
			t.Errorf("output did not arrive live: %d chunks over %v", len(stamps), stamps[len(stamps)-1].Sub(stamps[0]))
		}
	})
	t.Run("stdout stderr exit", func(t *testing.T) {
		res := sh(t, sb, "echo out; echo err >&2; exit 3")
		if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("stdin env cwd user", func(t *testing.T) {
		res, err := sb.Exec(ctx, client.ExecRequest{
			Cmd:   []string{"sh", "-c", `cat; echo "$FOO $FROM_CREATE"; pwd; id -un`},
			Stdin: []byte("piped\n"), Env: map[string]string{"FOO": "bar"}, Cwd: "/tmp", User: "nobody",
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := "piped\nbar yes\n/tmp\nnobody\n"; string(res.Stdout) != want {
			t.Errorf("got %q (stderr %q), want %q", res.Stdout, res.Stderr, want)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		res, err := sb.Exec(ctx, client.ExecRequest{Cmd: []string{"sleep", "30"}, TimeoutMS: 500})
		if err != nil || !res.TimedOut || res.ExitCode != 124 || time.Since(start) > 10*time.Second {
			t.Errorf("got %+v %v after %v", res, err, time.Since(start))
		}
	})
	t.Run("not found", func(t *testing.T) {
		res, err := sb.Exec(ctx, client.ExecRequest{Cmd: []string{"no-such-program"}})
		if err != nil || res.ExitCode != 127 || res.Error == "" {
			t.Errorf("got %+v %v", res, err)
		}
	})
	t.Run("background", func(t *testing.T) {
		c := s.client()
		pid, err := c.Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sh", "-c", "echo started; sleep 300"}})
		if err != nil {
			t.Fatal(err)
		}
		procs, err := c.Processes(ctx, sb.ID)
		if err != nil || len(procs) == 0 {
			t.Fatalf("processes: %v %v", procs, err)
		}
		var out bytes.Buffer
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "started") && time.Now().Before(deadline) {
			out.Reset()
			if _, err := c.Output(ctx, sb.ID, pid, false, client.StreamOptions{Stdout: &out}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(out.String(), "started") {
			t.Errorf("output %q", out.String())
		}
		if err := c.Signal(ctx, sb.ID, pid, "KILL"); err != nil {
			t.Fatal(err)
		}
		code, err := c.Output(ctx, sb.ID, pid, true, client.StreamOptions{})
		if err != nil || code != 137 {
			t.Errorf("after kill: code %d err %v", code, err)
		}
	})
}

func TestCLIExecExitCodes(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	for _, code := range []int{0, 1, 42, 255} {
		_, _, got := s.cli(t, "", "sandbox", "exec", sb.ID, "--", "sh", "-c", "exit "+itoa(code))
		if got != code {
			t.Errorf("exit %d: CLI exited %d", code, got)
		}
	}
	out, _, code := s.cli(t, "hello from stdin", "sandbox", "exec", "-i", sb.ID, "--", "cat")
	if code != 0 || out != "hello from stdin" {
		t.Errorf("stdin: %d %q", code, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBadInput(t *testing.T) {
	s := startServer(t)
	c := s.client()
	ctx := ctxT(t, time.Minute)
	_, err := c.Create(ctx, client.CreateRequest{Template: "no-such-template"})
	if !errors.Is(err, client.ErrNotFound) || !strings.Contains(err.Error(), "base") {
		t.Errorf("unknown template: %v (want not found listing base)", err)
	}
	for _, req := range []client.CreateRequest{{Name: "Bad Name"}, {VCPUs: 99}, {MemoryMB: 10}, {Name: "sandbox-abcdefgh"}} {
		if _, err := c.Create(ctx, req); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("create %+v: %v, want invalid argument", req, err)
		}
	}
	create(t, s, client.CreateRequest{Name: "taken"})
	if _, err := c.Create(ctx, client.CreateRequest{Name: "taken"}); !errors.Is(err, client.ErrAlreadyExists) || !strings.Contains(err.Error(), "taken") {
		t.Errorf("name taken: %v", err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
}

func TestTemplates(t *testing.T) {
	s := startServer(t)
	out, _, code := s.cli(t, "", "template", "list")
	if code != 0 || !strings.Contains(out, "base") || !strings.Contains(out, "ready") || !strings.Contains(out, "Debian") {
		t.Errorf("template list: exit %d:\n%s", code, out)
	}
	sb := create(t, s, client.CreateRequest{Template: "base-ubuntu"})
	if sb.Template != "base" {
		t.Errorf("base-ubuntu resolved to %q", sb.Template)
	}
}

// TestAddressReuse: a new sandbox that gets a freed address answers at
// once, although the host still remembers the old sandbox's neighbour entry.
func TestAddressReuse(t *testing.T) {
	s := startServer(t)
	create(t, s, client.CreateRequest{}) // keeps the bridge busy
	ctx := ctxT(t, 2*time.Minute)
	b, err := s.client().Create(ctx, client.CreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sh(t, b, "true")
	if err := b.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c := create(t, s, client.CreateRequest{})
	if c.IP != b.IP {
		t.Skipf("address not reused (%s, then %s)", b.IP, c.IP)
	}
	sh(t, c, "true")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("create + exec on a reused address took %v", d)
	}
}
