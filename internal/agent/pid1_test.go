package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// When the test binary is started with runAsAgent set, it is the agent:
// TestAsPID1 starts it that way as PID 1 of a new PID namespace.
const (
	runAsAgent   = "AGENT_TEST_RUN_AGENT"
	runAsAgentOn = "AGENT_TEST_LISTEN"
)

func TestMain(m *testing.M) {
	if os.Getenv(runAsAgent) == "1" {
		os.Exit(agentMain())
	}
	os.Exit(m.Run())
}

func agentMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := agent.ConfigFromEnv()
	if err != nil {
		log.Error("config", "err", err)
		return 2
	}
	cfg.Listen = os.Getenv(runAsAgentOn)
	if err := agent.Run(context.Background(), cfg, log); err != nil {
		log.Error("agent", "err", err)
		return 1
	}
	return 0
}

// TestAsPID1 runs the agent as PID 1 of a new PID namespace (needs root and
// unshare(1)): orphans are reaped, the exit statuses of the agent's own
// children are never stolen, and SIGTERM ends the agent with status 0.
func TestAsPID1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a PID namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var stderr bytes.Buffer
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runAsAgent+"=1", runAsAgentOn+"="+addr, agentapi.EnvToken+"="+testToken)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("agent log:\n%s", stderr.String())
		}
	})

	c := agentclient.New("http://"+addr, testToken)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx, 2*time.Millisecond); err != nil {
		select {
		case err := <-exited:
			t.Skipf("agent could not run in a PID namespace: %v\n%s", err, stderr.String())
		default:
		}
		t.Fatal(err)
	}
	if res := run(t, c, agentapi.ExecRequest{Cmd: sh("echo $PPID")}); res.stdout != "1\n" {
		t.Fatalf("agent is not PID 1: parent of its child is %q", res.stdout)
	}

	// Orphans: sh exits at once, sleep is reparented to the agent and exits
	// later. Meanwhile the agent's own children must keep their statuses.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var orphans []string
	for i := range 40 {
		wg.Go(func() {
			res, err := runErr(c, agentapi.ExecRequest{Cmd: sh(fmt.Sprintf("sleep 0.0%d & echo $!; exit %d", i%10, 3+i%5))})
			if err != nil {
				t.Error(err)
				return
			}
			if res.exitCode != 3+i%5 {
				t.Errorf("exec %d: exit %d, want %d (%+v)", i, res.exitCode, 3+i%5, res)
			}
			mu.Lock()
			orphans = append(orphans, strings.TrimSpace(res.stdout))
			mu.Unlock()
		})
	}
	wg.Wait()

	// Every orphan gets reaped: no zombie is left in the namespace.
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := run(t, c, agentapi.ExecRequest{Cmd: sh("cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ' || true")})
		if strings.TrimSpace(res.stdout) == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("zombies left: %s (orphans %v)", res.stdout, orphans)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// SIGTERM: a clean exit with status 0. The agent is unshare's child.
	agentPid := childOf(t, cmd.Process.Pid)
	if err := syscall.Kill(agentPid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("agent exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not exit on SIGTERM")
	}
}

// childOf returns the pid of the only child of ppid.
func childOf(t *testing.T, ppid int) int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	t.Fatalf("no child of %d", ppid)
	return 0
}
