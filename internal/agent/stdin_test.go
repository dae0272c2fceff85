package agent_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// TestStdinOfBackgroundProcess: a background process started with
// StdinOpen takes writes in order until they close its stdin; writes a
// process cannot take are conflicts that say why. The process list says
// whether each process's stdin still takes writes.
func TestStdinOfBackgroundProcess(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed := func(what string, pid int, want bool) {
		t.Helper()
		procs, err := c.Processes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if p.PID == pid {
				if p.StdinOpen != want {
					t.Errorf("%s: process %d listed with stdin_open %v, want %v", what, pid, p.StdinOpen, want)
				}
				return
			}
		}
		t.Errorf("%s: process %d is not listed", what, pid)
	}

	pid, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"cat"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	listed("started with stdin_open", pid, true)
	if err := c.WriteStdin(ctx, pid, []byte("hello\n"), false); err != nil {
		t.Fatal(err)
	}
	listed("after a write", pid, true)
	if err := c.WriteStdin(ctx, pid, []byte("world\n"), true); err != nil {
		t.Fatal(err)
	}
	listed("after eof", pid, false)
	var out bytes.Buffer
	code := -1
	err = c.Output(ctx, pid, true, func(ev agentapi.Event) error {
		switch ev.Type {
		case agentapi.EventStdout:
			out.Write(ev.Data)
		case agentapi.EventExit:
			code = *ev.ExitCode
		}
		return nil
	})
	if err != nil || code != 0 || out.String() != "hello\nworld\n" {
		t.Fatalf("output %q, exit %d, %v", out.String(), code, err)
	}
	conflict := func(what string, pid int, data string, eof bool, want string) {
		t.Helper()
		err := c.WriteStdin(ctx, pid, []byte(data), eof)
		if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a conflict saying %q", what, err, want)
		}
	}
	conflict("after eof", pid, "more", false, "closed already")

	closed, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Signal(ctx, closed, "KILL")
	conflict("without stdin_open", closed, "x", false, "stdin_open")
	listed("without stdin_open", closed, false)

	exited, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"true"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Output(ctx, exited, true, func(agentapi.Event) error { return nil })
	conflict("exited", exited, "x", false, "has exited")
	listed("exited", exited, false)

	fg := make(chan int, 1)
	go func() {
		c.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"sleep", "30"}}, func(ev agentapi.Event) error {
			if ev.Type == agentapi.EventStart {
				fg <- ev.PID
			}
			return nil
		})
	}()
	fpid := <-fg
	conflict("foreground", fpid, "x", false, "foreground")
	c.Signal(ctx, fpid, "KILL")

	shut, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"sh", "-c", "exec 0<&-; sleep 30"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Signal(ctx, shut, "KILL")
	// Until a write finds the pipe closed, the agent cannot tell.
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := c.WriteStdin(ctx, shut, []byte("x"), false)
		if err != nil {
			if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "closed its stdin") {
				t.Fatalf("process closed its stdin: %v, want a conflict saying so", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a process that closed its stdin kept working")
		}
		time.Sleep(20 * time.Millisecond)
	}
	listed("the process closed its stdin", shut, false)

	// A write the process does not take holds its stdin, not the listing.
	stuck, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"sleep", "30"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Signal(ctx, stuck, "KILL")
	writeCtx, stopWrite := context.WithCancel(ctx)
	wrote := make(chan error, 1)
	go func() { wrote <- c.WriteStdin(writeCtx, stuck, make([]byte, agentapi.MaxStdinBody), false) }()
	time.Sleep(100 * time.Millisecond) // the write fills the pipe and waits
	listed("during a write the process does not take", stuck, true)
	stopWrite()
	if err := <-wrote; err == nil {
		t.Error("a write to a process that does not read succeeded")
	}

	if err := c.WriteStdin(ctx, 999999, []byte("x"), false); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("no such process: %v, want not found", err)
	}
	big, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"cat"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Signal(ctx, big, "KILL")
	if err := c.WriteStdin(ctx, big, make([]byte, agentapi.MaxStdinBody+1), false); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("too much input at once: %v, want invalid argument", err)
	}
	if err := c.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"cat"}, StdinOpen: true}, func(agentapi.Event) error { return nil }); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("stdin_open in the foreground: %v, want invalid argument", err)
	}
}
