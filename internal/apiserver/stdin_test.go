package apiserver

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
)

// TestProcessStdin: a background process started with stdin_open takes
// input over plain HTTP until its stdin is closed, and the process list
// says so; what cannot be written is a 409 or 400 that says why.
func TestProcessStdin(t *testing.T) {
	f, c, ctx := agentFixture(t)
	listed := func(what string, pid int, want bool) {
		t.Helper()
		procs, err := c.Processes(ctx, "mine")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if p.PID == pid {
				if p.StdinOpen != want {
					t.Errorf("%s: process %d listed with StdinOpen %v, want %v", what, pid, p.StdinOpen, want)
				}
				return
			}
		}
		t.Errorf("%s: process %d is not listed", what, pid)
	}

	pid, err := c.Start(ctx, "mine", client.ExecRequest{Cmd: []string{"cat"}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendStdin(ctx, "mine", pid, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendStdin(ctx, "mine", pid, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	listed("before the close", pid, true)
	if err := c.CloseStdin(ctx, "mine", pid); err != nil {
		t.Fatal(err)
	}
	listed("after the close", pid, false)
	var out bytes.Buffer
	if code, err := c.Output(ctx, "mine", pid, true, client.StreamOptions{Stdout: &out}); code != 0 || err != nil || out.String() != "one\ntwo\n" {
		t.Fatalf("output %q, exit %d, %v", out.String(), code, err)
	}
	var ae *client.APIError
	if err := c.SendStdin(ctx, "mine", pid, []byte("late")); !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "closed") {
		t.Errorf("writing after the close: %v, want 409", err)
	}

	plain, err := c.Start(ctx, "mine", client.ExecRequest{Cmd: []string{"sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Signal(ctx, "mine", plain, "KILL")
	listed("without stdin_open", plain, false)
	if err := c.SendStdin(ctx, "mine", plain, []byte("x")); !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), "stdin_open") {
		t.Errorf("a process without stdin_open: %v, want a conflict that names stdin_open", err)
	}
	if err := c.SendStdin(ctx, "nope", plain, []byte("x")); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("no such sandbox: %v, want not found", err)
	}
	other, _ := client.New(f.srv.URL, f.keyB)
	if err := other.SendStdin(ctx, "mine", plain, []byte("x")); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another team's sandbox: %v, want not found", err)
	}

	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/v1/sandboxes/mine/processes", `{"cmd":["cat"],"stdin_open":true,"stdin":"aGk="}`, 400},
		{"POST", "/v1/sandboxes/mine/exec", `{"cmd":["cat"],"stdin_open":true}`, 400},
		{"POST", "/v1/sandboxes/mine/processes/abc/stdin", `x`, 400},
		{"POST", "/v1/sandboxes/mine/processes/1/stdin?eof=maybe", `x`, 400},
		{"POST", "/v1/sandboxes/mine/processes/999999/stdin", `x`, 404},
		{"POST", "/v1/sandboxes/mine/processes/1/stdin", strings.Repeat("x", agentapi.MaxStdinBody+1), 400},
	} {
		if resp := f.do(t, tc.method, tc.path, f.keyA, tc.body); resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}
