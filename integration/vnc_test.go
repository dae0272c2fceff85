package integration

import (
	be "encoding/binary"
	"io"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
)

// TestVNC: the desktop's WebSocket (what the dashboard's noVNC uses), with
// the key sent as a subprotocol as a browser does, carries RFB from the
// desktop sandbox's VNC server: version, security, then the screen's size.
// A paused sandbox is woken by it; a sandbox with no desktop is refused.
func TestVNC(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 5*time.Minute)
	sb := create(t, s, client.CreateRequest{Template: "desktop"})
	waitVNC(t, s, sb.ID, 2*time.Minute)
	url := "ws://" + s.addr + "/v1/sandboxes/" + sb.ID + "/vnc"

	dialBrowserRefused(ctx, t, url, "wrong-key", http.StatusUnauthorized, "with a wrong key")
	plain := create(t, s, client.CreateRequest{})
	dialBrowserRefused(ctx, t, "ws://"+s.addr+"/v1/sandboxes/"+plain.ID+"/vnc", s.key, http.StatusConflict, "a sandbox with no desktop")

	handshake := func() {
		t.Helper()
		c := dialBrowser(ctx, t, url, s.key)
		defer c.CloseNow()
		rfb := websocket.NetConn(ctx, c, websocket.MessageBinary)
		read := func(n int) []byte {
			t.Helper()
			b := make([]byte, n)
			rfb.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.ReadFull(rfb, b); err != nil {
				t.Fatalf("reading %d bytes of RFB: %v", n, err)
			}
			return b
		}
		write := func(b []byte) {
			t.Helper()
			if _, err := rfb.Write(b); err != nil {
				t.Fatalf("writing RFB: %v", err)
			}
		}
		if v := read(12); !regexp.MustCompile(`^RFB 003\.00\d\n$`).Match(v) {
			t.Fatalf("version banner %q, want RFB 003.00x", v)
		}
		write([]byte("RFB 003.008\n"))
		types := read(int(read(1)[0]))
		if !slices.Contains(types, 1) {
			t.Fatalf("security types %v: no None (1)", types)
		}
		write([]byte{1})
		if result := be.BigEndian.Uint32(read(4)); result != 0 {
			t.Fatalf("security result %d, want 0 (ok)", result)
		}
		write([]byte{1}) // ClientInit: shared
		init := read(4)
		if w, h := be.BigEndian.Uint16(init), be.BigEndian.Uint16(init[2:]); w != 1280 || h != 800 {
			t.Errorf("the screen is %dx%d, want 1280x800", w, h)
		}
		rfb.Close()
	}
	handshake()

	// A paused desktop wakes for it.
	if _, err := s.client().Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	handshake()
	t.Logf("a paused desktop's VNC answered in %v", time.Since(start).Round(time.Millisecond))
	if got, _ := s.client().Get(ctx, sb.ID); got.State != "running" {
		t.Errorf("after the VNC connection: %s, want running", got.State)
	}
}
