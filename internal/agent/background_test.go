package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

func TestNproc(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{Nproc: 77})
	// The shell's own child is forked after prlimit has applied the limit
	// to the shell.
	script := sh("sleep 0.1; grep 'Max processes' /proc/self/limits")
	users := []string{""}
	if os.Geteuid() == 0 {
		users = append(users, "nobody", "1234:4321")
	}
	for _, u := range users {
		res := run(t, c, agentapi.ExecRequest{Cmd: script, User: u})
		if f := strings.Fields(res.stdout); len(f) < 4 || f[2] != "77" || f[3] != "77" {
			t.Errorf("user %q: limits = %q %q", u, res.stdout, res.stderr)
		}
	}
	// The agent keeps its own limit, and every thread its own identity.
	b, _ := os.ReadFile("/proc/self/limits")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Max processes") && strings.Fields(l)[2] == "77" {
			t.Errorf("agent's own limit changed: %q", l)
		}
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Uid:") || strings.HasPrefix(l, "Gid:") {
				if f := strings.Fields(l); f[1] != f[2] || f[1] != f[3] {
					t.Errorf("%s: %s", p, l)
				}
			}
		}
	}
}

func TestBackground(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	pid, err := c.Start(ctx, agentapi.ExecRequest{Cmd: sh("echo one; echo err >&2; sleep 0.3; echo two; exit 5")})
	if err != nil {
		t.Fatal(err)
	}
	procs, err := c.Processes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 || procs[0].PID != pid || !procs[0].Running || procs[0].Cmd[0] != "/bin/sh" {
		t.Errorf("processes = %+v", procs)
	}

	out, errOut, exit := collectPid(t, c, pid)
	if out != "one\ntwo\n" || errOut != "err\n" || exit == nil || *exit.ExitCode != 5 {
		t.Errorf("follow: out=%q err=%q exit=%+v", out, errOut, exit)
	}
	// A replay after exit has the same output and the exit event.
	var events []agentapi.Event
	if err := c.Output(ctx, pid, false, func(ev agentapi.Event) error { events = append(events, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	out = ""
	for _, ev := range events {
		out += string(ev.Data)
	}
	if last := events[len(events)-1]; out != "one\nerr\ntwo\n" && out != "err\none\ntwo\n" || last.Type != agentapi.EventExit || *last.ExitCode != 5 {
		t.Errorf("replay: out=%q events=%+v", out, events)
	}
	procs, _ = c.Processes(ctx)
	if len(procs) != 1 || procs[0].Running || procs[0].ExitCode == nil || *procs[0].ExitCode != 5 {
		t.Errorf("after exit: %+v", procs)
	}

	// Output without follow of a running process returns what there is.
	pid2, err := c.Start(ctx, agentapi.ExecRequest{Cmd: sh("echo started; sleep 60")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got string
		if err := c.Output(ctx, pid2, false, func(ev agentapi.Event) error { got += string(ev.Data); return nil }); err != nil {
			t.Fatal(err)
		}
		if got == "started\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("running output = %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.Signal(ctx, pid2, "KILL"); err != nil {
		t.Fatal(err)
	}
	_, _, exit = collectPid(t, c, pid2)
	if exit == nil || *exit.ExitCode != 137 {
		t.Errorf("killed: exit %+v", exit)
	}

	if _, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"no-such-command-xyz"}}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("background not found: %v", err)
	}
	if _, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"true"}, User: "no-such-user"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("background unknown user: %v", err)
	}
}

func TestBackgroundOutputIsBounded(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	pid, err := c.Start(context.Background(), agentapi.ExecRequest{Cmd: sh("head -c 3000000 /dev/zero; echo tail")})
	if err != nil {
		t.Fatal(err)
	}
	out, _, exit := collectPid(t, c, pid)
	if exit == nil || *exit.ExitCode != 0 {
		t.Fatalf("exit %+v", exit)
	}
	// The follower may have read some of the output before it was dropped,
	// so only check a replay.
	out = ""
	c.Output(context.Background(), pid, false, func(ev agentapi.Event) error { out += string(ev.Data); return nil })
	if len(out) != 1<<20 || !strings.HasSuffix(out, "tail\n") {
		t.Errorf("replayed %d bytes ending %q, want the last 1 MiB", len(out), out[max(0, len(out)-5):])
	}
}

func TestSignal(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	pid, err := c.Start(ctx, agentapi.ExecRequest{Cmd: sh("trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done")})
	if err != nil {
		t.Fatal(err)
	}
	waitOutput(t, c, pid, "ready\n")
	if err := c.Signal(ctx, pid, "BOGUS"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad signal: %v", err)
	}
	if err := c.Signal(ctx, pid, "TERM"); err != nil {
		t.Fatal(err)
	}
	out, _, exit := collectPid(t, c, pid)
	if !strings.Contains(out, "got TERM") || exit == nil {
		t.Errorf("out=%q exit=%+v", out, exit)
	}
	if err := c.Signal(ctx, pid, "KILL"); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("signal after exit: %v", err)
	}
	if err := c.Signal(ctx, 999999, "TERM"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown pid: %v", err)
	}
	if err := c.Output(ctx, 999999, false, func(agentapi.Event) error { return nil }); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("output of unknown pid: %v", err)
	}
}

// TestForegroundListed: a running foreground process is listed and can be
// signalled, and is no longer listed once done.
func TestForegroundListed(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	err := c.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"sleep", "60"}}, func(ev agentapi.Event) error {
		if ev.Type != agentapi.EventStart {
			return nil
		}
		procs, err := c.Processes(ctx)
		if err != nil {
			return err
		}
		if len(procs) != 1 || procs[0].PID != ev.PID || !procs[0].Running {
			t.Errorf("processes = %+v", procs)
		}
		if err := c.Output(ctx, ev.PID, false, func(agentapi.Event) error { return nil }); !errors.Is(err, errdefs.ErrConflict) {
			t.Errorf("output of a foreground process: %v", err)
		}
		return c.Signal(ctx, ev.PID, "INT")
	})
	if err != nil {
		t.Fatal(err)
	}
	procs, err := c.Processes(ctx)
	if err != nil || len(procs) != 0 {
		t.Errorf("after exit: %+v, %v", procs, err)
	}
}

// TestPids: the agent counts every process it can see, not only its own
// children; a running child is among them.
func TestPids(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	pid, err := c.Start(ctx, agentapi.ExecRequest{Cmd: sh("sleep 30")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Signal(ctx, pid, "KILL") })
	n, err := c.Pids(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("Pids = %d with the test and a sleep running", n)
	}
}

func TestSpawn(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	d, err := c.Spawn(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 5 {
		t.Fatalf("got %d timings", len(d))
	}
	for _, x := range d {
		if x <= 0 || x > 5*time.Second {
			t.Errorf("timing %v", x)
		}
	}
	t.Logf("spawn of true: %v", d)
	if _, err := c.Spawn(context.Background(), 0); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("n=0: %v", err)
	}
}
