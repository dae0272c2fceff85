package apiserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agenttest"
)

// agentFixture is a fixture whose sandboxes have a real agent, serving on
// 127.0.0.1 and running its commands on this machine, with a client of
// team a and a context for the test.
func agentFixture(t *testing.T) (*fixture, *client.Client, context.Context) {
	t.Helper()
	f := newFixture(t)
	f.sandboxes.agent, _ = agenttest.Start(t, agent.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := client.New(f.srv.URL, f.keyA)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return f, c, ctx
}

// lines collects output and hands it out a line at a time.
type lines struct {
	mu  sync.Mutex
	buf strings.Builder
	ch  chan string
	all strings.Builder
}

func newLines() *lines { return &lines{ch: make(chan string, 100)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.buf.Write(p)
	for {
		s := l.buf.String()
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.ch <- s[:i]
		l.buf.Reset()
		l.buf.WriteString(s[i+1:])
	}
}

func (l *lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no line within 10s")
		return ""
	}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

func TestExecAttach(t *testing.T) {
	f, c, ctx := agentFixture(t)
	attach := func(req client.AttachRequest, out, errOut io.Writer, onEvent func(client.Event)) *client.Session {
		t.Helper()
		sess, err := c.Attach(ctx, "mine", req, client.StreamOptions{Stdout: out, Stderr: errOut, OnEvent: onEvent})
		if err != nil {
			t.Fatalf("attach %q: %v", req.Cmd, err)
		}
		t.Cleanup(func() { sess.Close() })
		return sess
	}

	t.Run("stdin streams", func(t *testing.T) {
		out := newLines()
		sess := attach(client.AttachRequest{Cmd: []string{"cat"}}, out, nil, nil)
		if n := f.sandboxes.busy.Load(); n != 1 {
			t.Errorf("busy %d while attached, want 1", n)
		}
		for _, line := range []string{"one", "two", "three"} {
			if _, err := sess.Write([]byte(line + "\n")); err != nil {
				t.Fatal(err)
			}
			if got := out.next(t); got != line {
				t.Fatalf("read back %q, want %q", got, line)
			}
		}
		if err := sess.CloseStdin(); err != nil {
			t.Fatal(err)
		}
		if code, err := sess.Wait(); code != 0 || err != nil {
			t.Fatalf("Wait: %d, %v", code, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for f.sandboxes.busy.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := f.sandboxes.busy.Load(); n != 0 {
			t.Errorf("busy %d after the exit, want 0", n)
		}
	})

	t.Run("stderr apart and the exit code", func(t *testing.T) {
		out, errOut := newLines(), newLines()
		sess := attach(client.AttachRequest{Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}, out, errOut, nil)
		if code, err := sess.Wait(); code != 3 || err != nil {
			t.Fatalf("Wait: %d, %v", code, err)
		}
		if out.String() != "out\n" || errOut.String() != "err\n" {
			t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
		}
	})

	t.Run("tty", func(t *testing.T) {
		out := newLines()
		sess := attach(client.AttachRequest{Cmd: []string{"sh", "-c", "test -t 0 && echo tty; stty size"}, TTY: true, Cols: 100, Rows: 30}, out, nil, nil)
		if code, err := sess.Wait(); code != 0 || err != nil {
			t.Fatalf("Wait: %d, %v", code, err)
		}
		if got := out.String(); got != "tty\r\n30 100\r\n" {
			t.Errorf("output %q, want tty and the size", got)
		}
	})

	t.Run("signal", func(t *testing.T) {
		sess := attach(client.AttachRequest{Cmd: []string{"sleep", "30"}}, nil, nil, nil)
		if err := sess.Signal("TERM"); err != nil {
			t.Fatal(err)
		}
		if code, err := sess.Wait(); code != 128+15 || err != nil {
			t.Fatalf("Wait: %d, %v; want 143", code, err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		var timedOut bool
		sess := attach(client.AttachRequest{Cmd: []string{"sleep", "30"}, TimeoutMS: 200}, nil, nil, func(ev client.Event) {
			if ev.Type == client.EventExit {
				timedOut = ev.TimedOut
			}
		})
		if code, err := sess.Wait(); code != 124 || err != nil || !timedOut {
			t.Fatalf("Wait: %d, %v, timed out %v; want 124 and timed out", code, err, timedOut)
		}
	})

	t.Run("cannot start", func(t *testing.T) {
		var msg string
		sess := attach(client.AttachRequest{Cmd: []string{"no-such-command-x"}}, nil, nil, func(ev client.Event) {
			if ev.Type == client.EventError {
				msg = ev.Message
			}
		})
		if code, err := sess.Wait(); code != 127 || err != nil || !strings.Contains(msg, "no-such-command-x") {
			t.Fatalf("Wait: %d, %v, error %q; want 127 and why", code, err, msg)
		}
	})

	t.Run("close ends the command", func(t *testing.T) {
		sess := attach(client.AttachRequest{Cmd: []string{"sleep", "30"}}, nil, nil, nil)
		sess.Close()
		if _, err := sess.Wait(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Wait after Close: %v, want net.ErrClosed", err)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			req  client.AttachRequest
			ref  string
			kind error
			code int
		}{
			{client.AttachRequest{}, "mine", client.ErrInvalidArgument, 400},
			{client.AttachRequest{Cmd: []string{"ls"}, Cwd: "relative"}, "mine", client.ErrInvalidArgument, 400},
			{client.AttachRequest{Cmd: []string{"ls"}, TimeoutMS: -1}, "mine", client.ErrInvalidArgument, 400},
			{client.AttachRequest{Cmd: []string{"ls"}}, "nope", client.ErrNotFound, 404},
		} {
			_, err := c.Attach(ctx, tc.ref, tc.req, client.StreamOptions{})
			var ae *client.APIError
			if !errors.Is(err, tc.kind) || !errors.As(err, &ae) || ae.Status != tc.code {
				t.Errorf("%+v on %s: %v, want %v (%d)", tc.req, tc.ref, err, tc.kind, tc.code)
			}
		}
		other, _ := client.New(f.srv.URL, f.keyB)
		if _, err := other.Attach(ctx, "mine", client.AttachRequest{Cmd: []string{"ls"}}, client.StreamOptions{}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another team's sandbox: %v, want not found", err)
		}
	})
}

// TestExecAttachNeedsWebSocket: a plain GET is told what to send.
func TestExecAttachNeedsWebSocket(t *testing.T) {
	f := newFixture(t)
	resp := f.do(t, "GET", "/v1/sandboxes/mine/exec/attach", f.keyA, "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET without upgrade: %d, want 400", resp.StatusCode)
	}
}
