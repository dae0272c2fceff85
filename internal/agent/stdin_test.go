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
// process cannot take are conflicts that say why.
func TestStdinOfBackgroundProcess(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pid, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"cat"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteStdin(ctx, pid, []byte("hello\n"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteStdin(ctx, pid, []byte("world\n"), true); err != nil {
		t.Fatal(err)
	}
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

	exited, err := c.Start(ctx, agentapi.ExecRequest{Cmd: []string{"true"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Output(ctx, exited, true, func(agentapi.Event) error { return nil })
	conflict("exited", exited, "x", false, "has exited")

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
