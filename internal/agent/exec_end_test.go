package agent_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// TestExecGrandchildHoldsPipe: a background grandchild that keeps stdout
// open must not hold the exec past a short grace after the main process.
func TestExecGrandchildHoldsPipe(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	start := time.Now()
	res := run(t, c, agentapi.ExecRequest{Cmd: sh("sleep 3 & echo hi")})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("exec took %v; the grandchild held it open", d)
	}
	if res.stdout != "hi\n" || res.exitCode != 0 {
		t.Errorf("got %+v", res)
	}
}

func TestExecDisconnectKillsProcessGroup(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	dir := t.TempDir()
	stop := errors.New("stop")
	pid := 0
	err := c.Exec(context.Background(), agentapi.ExecRequest{Cmd: sh("sleep 60 & echo $! > " + dir + "/child; echo ready; wait")},
		func(ev agentapi.Event) error {
			if ev.Type == agentapi.EventStart {
				pid = ev.PID
			}
			if ev.Type == agentapi.EventStdout {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) {
		t.Fatalf("Exec = %v, want the callback's error", err)
	}
	b, err := os.ReadFile(dir + "/child")
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitGone(t, pid)
	waitGone(t, child)
}

func TestExecContextCancelKills(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	pid := 0
	err := c.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"sleep", "60"}}, func(ev agentapi.Event) error {
		if ev.Type == agentapi.EventStart {
			pid = ev.PID
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec = %v, want context.Canceled", err)
	}
	if errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("a cancelled call is not 'unavailable': %v", err)
	}
	waitGone(t, pid)
}

// TestExecOverhead reports how much a foreground exec of true adds over
// spawning it. The bound is loose: this runs on a shared test machine.
func TestExecOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	run(t, c, agentapi.ExecRequest{Cmd: []string{"true"}}) // warm the connection
	const n = 50
	var total time.Duration
	for range n {
		start := time.Now()
		run(t, c, agentapi.ExecRequest{Cmd: []string{"true"}})
		total += time.Since(start)
	}
	spawn, err := c.Spawn(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	var spawnTotal time.Duration
	for _, d := range spawn {
		spawnTotal += d
	}
	execAvg, spawnAvg := total/n, spawnTotal/n
	// Measured, not asserted: a shared machine's load moves it (make bench
	// has the exec figures, beside the peers').
	t.Logf("exec of true via agent: %v, bare spawn: %v, overhead: %v", execAvg, spawnAvg, execAvg-spawnAvg)
}
