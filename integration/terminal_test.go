package integration

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
)

// terminal reads a browser terminal's output until it matches want.
type terminal struct {
	t   *testing.T
	c   *websocket.Conn
	out bytes.Buffer
}

func (tm *terminal) expect(ctx context.Context, want *regexp.Regexp) []string {
	tm.t.Helper()
	for {
		if m := want.FindSubmatch(tm.out.Bytes()); m != nil {
			var s []string
			for _, b := range m {
				s = append(s, string(b))
			}
			tm.out.Reset()
			return s
		}
		_, data, err := tm.c.Read(ctx)
		if err != nil {
			tm.t.Fatalf("terminal: waiting for %s: %v; output so far: %q", want, err, tm.out.String())
		}
		tm.out.Write(data)
	}
}

func (tm *terminal) typ(ctx context.Context, s string) {
	tm.t.Helper()
	if err := tm.c.Write(ctx, websocket.MessageBinary, []byte(s)); err != nil {
		tm.t.Fatalf("terminal: typing %q: %v", s, err)
	}
}

// dialBrowser dials one of a sandbox's WebSockets at url as the dashboard
// does, the key sent as a subprotocol, and checks the server chose the
// runtools subprotocol. The caller closes the connection.
func dialBrowser(ctx context.Context, t *testing.T, url, key string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"runtools", "bearer." + key}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if c.Subprotocol() != "runtools" {
		t.Errorf("subprotocol %q, want runtools", c.Subprotocol())
	}
	return c
}

// dialBrowserRefused checks that dialBrowser's dial of url with key is
// refused with status want; what says what was dialled.
func dialBrowserRefused(ctx context.Context, t *testing.T, url, key string, want int, what string) {
	t.Helper()
	_, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"runtools", "bearer." + key}})
	if err == nil || resp == nil || resp.StatusCode != want {
		t.Fatalf("dial %s: %v, %v; want %d", what, resp, err, want)
	}
}

// TestTerminal: the dashboard's terminal WebSocket, with the key sent as a
// subprotocol as a browser does, runs commands and follows resizes.
func TestTerminal(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "ws://" + s.addr + "/v1/sandboxes/" + sb.ID + "/terminal?cols=100&rows=30"

	dialBrowserRefused(ctx, t, url, "wrong-key", http.StatusUnauthorized, "with a wrong key")
	c := dialBrowser(ctx, t, url, s.key)
	defer c.CloseNow()
	tm := &terminal{t: t, c: c}
	tm.typ(ctx, "echo h''i\n") // the echoed command line does not match
	tm.expect(ctx, regexp.MustCompile(`[\r\n]hi\r\n`))

	tm.typ(ctx, "stty size\n")
	if m := tm.expect(ctx, regexp.MustCompile(`[\r\n](\d+) (\d+)\r\n`)); m[1] != "30" || m[2] != "100" {
		t.Errorf("first stty size %s %s, want 30 100", m[1], m[2])
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"resize","cols":120,"rows":40}`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	tm.typ(ctx, "stty size\n")
	if m := tm.expect(ctx, regexp.MustCompile(`[\r\n](\d+) (\d+)\r\n`)); m[1] != "40" || m[2] != "120" {
		t.Errorf("stty size after resize %s %s, want 40 120", m[1], m[2])
	}

	tm.typ(ctx, "exit 3\n")
	var err error
	for {
		if _, _, err = c.Read(ctx); err != nil {
			break
		}
	}
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after exit: %v, want a normal close", err)
	}
}

// TestTerminalIsActivity: an open terminal keeps an idle sandbox from
// pausing; once closed the sandbox pauses, and a new terminal wakes it.
func TestTerminalIsActivity(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(2)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dial := func() *terminal {
		return &terminal{t: t, c: dialBrowser(ctx, t, "ws://"+s.addr+"/v1/sandboxes/"+sb.ID+"/terminal", s.key)}
	}
	tm := dial()
	time.Sleep(6 * time.Second) // three idle timeouts, the terminal quiet
	if got, _ := s.client().Get(ctx, sb.ID); got.State != "running" {
		t.Fatalf("paused with a terminal open: %s", got.State)
	}
	tm.c.Close(websocket.StatusNormalClosure, "")
	waitState(t, s, sb.ID, "paused", 15*time.Second)

	tm = dial()
	defer tm.c.CloseNow()
	tm.typ(ctx, "echo aw''ake\n")
	tm.expect(ctx, regexp.MustCompile(`[\r\n]awake\r\n`))
}
