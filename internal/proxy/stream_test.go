package proxy

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wsKey is the Sec-WebSocket-Key of the test clients' handshakes.
var wsKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))

// dialWebSocket sends a websocket handshake for path on port 5173 of
// sandbox idA to the proxy, with extra header lines (each ending in
// "\r\n"), and returns the connection, a reader of it and the answer. The
// connection closes when the test ends.
func (e *testEnv) dialWebSocket(t *testing.T, path, extra string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, host(idA, 5173), wsKey, extra)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("websocket handshake: %v", err)
	}
	return conn, br, resp
}

func TestWebSocket(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(wsEcho))
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})

	conn, br, resp := e.dialWebSocket(t, "/hmr", "Sec-WebSocket-Protocol: vite-hmr\r\n")
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(wsKey) ||
		resp.Header.Get("Sec-WebSocket-Protocol") != "vite-hmr" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	for i := range 3 {
		msg := fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*200))
		if err := writeFrame(conn, 0x1, []byte(msg), true); err != nil {
			t.Fatal(err)
		}
		op, got, err := readFrame(br)
		if err != nil {
			t.Fatal(err)
		}
		if op != 0x1 || string(got) != msg {
			t.Fatalf("echo: op %d %q, want %q", op, got, msg)
		}
	}
	if e.res.done.Load() != 0 {
		t.Error("Done called while the websocket is open")
	}
	writeFrame(conn, 0x8, nil, true) // close
	if op, _, err := readFrame(br); err != nil || op != 0x8 {
		t.Fatalf("close: op %d, %v", op, err)
	}
	conn.Close()
	e.res.waitDone(t, 1)
	if !strings.Contains(e.logs.String(), "status=101") {
		t.Errorf("log has no status=101 line:\n%s", e.logs.String())
	}
}

// wsEcho is a minimal websocket echo server (RFC 6455): text and binary
// frames come back, a close frame is answered and ends it.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "websocket only", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")), r.Header.Get("Sec-WebSocket-Protocol"))
	brw.Flush()
	for {
		op, payload, err := readFrame(brw.Reader)
		if err != nil {
			return
		}
		writeFrame(conn, op, payload, false)
		if op == 0x8 {
			return
		}
	}
}

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// writeFrame writes one final frame; clients mask, servers do not.
func writeFrame(w io.Writer, op byte, payload []byte, mask bool) error {
	hdr := []byte{0x80 | op}
	maskBit := byte(0)
	if mask {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, maskBit|byte(n))
	case n < 1<<16:
		hdr = append(hdr, maskBit|126, byte(n>>8), byte(n))
	default:
		return errors.New("frame too long for this test")
	}
	data := append([]byte(nil), payload...)
	if mask {
		key := []byte{1, 2, 3, 4}
		hdr = append(hdr, key...)
		for i := range data {
			data[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(hdr, data...))
	return err
}

func readFrame(r *bufio.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	op = h[0] & 0x0f
	n := int(h[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int(ext[0])<<8 | int(ext[1])
	} else if n == 127 {
		return 0, nil, errors.New("frame too long for this test")
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return op, payload, nil
}

// TestServerSentEvents checks that events reach the client one by one, as
// they are written, not when the stream ends.
func TestServerSentEvents(t *testing.T) {
	next := make(chan struct{})
	e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: event %d\n\n", i)
			http.NewResponseController(w).Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	}))
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
	resp, err := e.plain.Do(e.request(http.MethodGet, host(idA, 5173), "/events", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	for i := range 3 {
		got := make(chan string, 1)
		go func() {
			line, _ := lines.ReadString('\n')
			lines.ReadString('\n') // the blank line
			got <- line
		}()
		select {
		case line := <-got:
			if want := fmt.Sprintf("data: event %d\n", i); line != want {
				t.Fatalf("read %q, want %q", line, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d did not arrive before the next was written", i)
		}
		next <- struct{}{}
	}
	resp.Body.Close()
	e.res.waitDone(t, 1)
}

// TestLargeBodiesStream moves 100 MB each way through the proxy and checks
// the heap stays small: nothing buffers a whole body.
func TestLargeBodiesStream(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB")
	}
	const size = 100 << 20
	var uploaded atomic.Int64
	e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			n, _ := io.Copy(io.Discard, r.Body)
			uploaded.Store(n)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := make([]byte, 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})

	peak := watchHeap(t)
	resp, err := e.plain.Do(e.request(http.MethodGet, host(idA, 5173), "/big", nil))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size {
		t.Fatalf("downloaded %d bytes, %v; want %d", n, err, size)
	}
	req := e.request(http.MethodPost, host(idA, 5173), "/big", io.LimitReader(zeros{}, size))
	req.ContentLength = size
	resp, err = e.plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if uploaded.Load() != size {
		t.Fatalf("uploaded %d bytes, want %d", uploaded.Load(), size)
	}
	if growth := peak(); growth > 32<<20 {
		t.Errorf("heap in use grew by %d MB moving 100 MB each way, want < 32 MB", growth>>20)
	}
	e.res.waitDone(t, 2)
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// watchHeap samples HeapInuse until the returned func is called, which
// gives the peak growth over the starting point.
func watchHeap(t *testing.T) func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-stopped
		t.Logf("peak heap growth %d KB", peak.Load()>>10)
		return peak.Load()
	}
}
