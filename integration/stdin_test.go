package integration

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestProcessStdin: a background process started with stdin_open takes
// its input over plain HTTP, one request at a time, each answered by the
// process before the next is sent, until the input is closed; a process
// that exited refuses more with a conflict.
func TestProcessStdin(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	ctx := ctxT(t, 2*time.Minute)
	c := s.client()
	pid, err := c.Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sh", "-c", `while read l; do echo "got $l"; done; echo end`}, StdinOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	// What curl does: POST the raw bytes.
	send := func(data string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+s.addr+"/v1/sandboxes/"+sb.ID+"/processes/"+strconv.Itoa(pid)+"/stdin", strings.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+s.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST stdin: %d", resp.StatusCode)
		}
	}
	answered := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var out bytes.Buffer
			if _, err := c.Output(ctx, sb.ID, pid, false, client.StreamOptions{Stdout: &out}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("output %q, waiting for %q", out.String(), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	send("one\n")
	answered("got one\n")
	if err := c.SendStdin(ctx, sb.ID, pid, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	answered("got two\n")
	if err := c.CloseStdin(ctx, sb.ID, pid); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := c.Output(ctx, sb.ID, pid, true, client.StreamOptions{Stdout: &out})
	if err != nil || code != 0 || out.String() != "got one\ngot two\nend\n" {
		t.Fatalf("output %q, exit %d, %v", out.String(), code, err)
	}
	if err := c.SendStdin(ctx, sb.ID, pid, []byte("late\n")); !errors.Is(err, client.ErrConflict) {
		t.Errorf("writing to a process that exited: %v, want a conflict", err)
	}
}

// TestProcessStdinCLI: the CLI's exec -d --stdin-open and sandbox stdin,
// built and run as a user runs them.
func TestProcessStdinCLI(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	out, errOut, code := s.cli(t, "", "sandbox", "exec", sb.ID, "-d", "--stdin-open", "--", "sh", "-c", `while read l; do echo "got $l"; done; echo end`)
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if code != 0 || err != nil {
		t.Fatalf("exec -d --stdin-open: %q %q %d", out, errOut, code)
	}
	if out, errOut, code := s.cli(t, "one\ntwo\n", "sandbox", "stdin", sb.ID, strconv.Itoa(pid), "--keep-open"); code != 0 {
		t.Fatalf("stdin --keep-open: %q %q %d", out, errOut, code)
	}
	if out, errOut, code := s.cli(t, "three\n", "sandbox", "stdin", sb.ID, strconv.Itoa(pid)); code != 0 {
		t.Fatalf("stdin: %q %q %d", out, errOut, code)
	}
	var got bytes.Buffer
	ctx := ctxT(t, time.Minute)
	code, err = s.client().Output(ctx, sb.ID, pid, true, client.StreamOptions{Stdout: &got})
	if err != nil || code != 0 || got.String() != "got one\ngot two\ngot three\nend\n" {
		t.Fatalf("output %q, exit %d, %v", got.String(), code, err)
	}
	if _, errOut, code := s.cli(t, "late\n", "sandbox", "stdin", sb.ID, strconv.Itoa(pid)); code != 1 || !strings.Contains(errOut, "conflict") {
		t.Errorf("stdin to a process that exited: %q %d", errOut, code)
	}
}
