package proxy

import (
	"bufio"
	"context"
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

	"github.com/runtools/runtools/internal/errdefs"
)

func TestForwardedHeaders(t *testing.T) {
	e := newEnv(t, echo)
	resp, body := e.get(host(idA, 5173), "/src/main.ts?import&t=1",
		tokenHeader+": "+tokenA,
		"X-Forwarded-For: 6.6.6.6",
		"X-Forwarded-Host: evil.example",
		"X-Forwarded-Proto: https",
		"X-Forwarded-Port: 443",
		"X-Real-IP: 6.6.6.6",
		"Forwarded: for=6.6.6.6;host=evil.example",
		"Connection: X-Drop-Me",
		"X-Drop-Me: 1",
		"Accept-Encoding: gzip",
	)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	s := decodeSeen(t, body)
	checks := []struct{ what, got, want string }{
		{"Host", s.Host, "localhost:5173"},
		{"URI", s.URI, "/src/main.ts?import&t=1"},
		{"X-Forwarded-For", strings.Join(s.Header.Values("X-Forwarded-For"), ","), "127.0.0.1"},
		{"X-Forwarded-Host", s.Header.Get("X-Forwarded-Host"), host(idA, 5173)},
		{"X-Forwarded-Proto", s.Header.Get("X-Forwarded-Proto"), "http"},
		{"X-Forwarded-Port", s.Header.Get("X-Forwarded-Port"), ""},
		{"X-Real-Ip", s.Header.Get("X-Real-Ip"), ""},
		{"Forwarded", s.Header.Get("Forwarded"), ""},
		{"X-Drop-Me (hop-by-hop)", s.Header.Get("X-Drop-Me"), ""},
		{tokenHeader, s.Header.Get(tokenHeader), ""},
		{"Accept-Encoding (passed as is)", s.Header.Get("Accept-Encoding"), "gzip"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("upstream saw %s %q, want %q", c.what, c.got, c.want)
		}
	}
	e.res.waitDone(t, 1)
}

func TestErrorPages(t *testing.T) {
	refused := func() string { // an address nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		setup      func(e *testEnv)
		accept     string
		wantStatus int
		wantType   string
		wantText   string
		wantDone   int64
	}{
		{
			name:       "nothing listening",
			setup:      func(e *testEnv) { e.res.set(idA, Route{Addr: refused, Public: true}) },
			wantStatus: 502, wantType: "text/plain", wantDone: 1,
			wantText: "502 Bad Gateway: nothing is listening on port 5173 in sandbox " + idA + " yet: start your dev server there, listening on 0.0.0.0 (e.g. `npm run dev -- --host`)\n",
		},
		{
			name:       "nothing listening, browser",
			setup:      func(e *testEnv) { e.res.set(idA, Route{Addr: refused, Public: true}) },
			accept:     "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
			wantStatus: 502, wantType: "text/html", wantDone: 1,
			wantText: "<code>npm run dev -- --host</code>",
		},
		{
			name: "dial timeout",
			setup: func(e *testEnv) {
				e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
				e.p.pool.dial = (&net.Dialer{Timeout: time.Nanosecond}).DialContext
			},
			wantStatus: 504, wantType: "text/plain", wantDone: 1, wantText: "did not accept a connection in time",
		},
		{
			name:       "unknown sandbox",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("no record: %w", errdefs.ErrNotFound)) },
			wantStatus: 404, wantType: "text/plain", wantText: "no sandbox " + idA,
		},
		{
			name:       "port not exposed",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("port: %w", errdefs.ErrPermissionDenied)) },
			wantStatus: 403, wantType: "text/plain", wantText: "port 5173 is not exposed; `runtools sandbox expose " + idA + " 5173`",
		},
		{
			name:       "starting",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("sandbox is restoring: %w", errdefs.ErrUnavailable)) },
			wantStatus: 503, wantType: "text/plain", wantText: "sandbox " + idA + " is starting or not running: sandbox is restoring: unavailable",
		},
		{
			name:       "stopped",
			setup:      func(e *testEnv) { e.res.fail(idA, fmt.Errorf("sandbox is stopped: %w", errdefs.ErrConflict)) },
			wantStatus: 503, wantType: "text/plain", wantText: "sandbox is stopped",
		},
		{
			name:       "other resolver error",
			setup:      func(e *testEnv) { e.res.fail(idA, errors.New("disk on fire at /secret/path")) },
			wantStatus: 502, wantType: "text/plain", wantText: "could not be reached",
		},
		{
			name: "upstream hangs up",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := http.NewResponseController(w).Hijack()
				conn.Close()
			},
			setup:      func(e *testEnv) { e.res.set(idA, Route{Addr: e.up.addr(), Public: true}) },
			wantStatus: 502, wantType: "text/plain", wantDone: 1, wantText: "failed before it answered",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = echo
			if tt.handler != nil {
				h = tt.handler
			}
			e := newEnv(t, h)
			tt.setup(e)
			var headers []string
			if tt.accept != "" {
				headers = append(headers, "Accept: "+tt.accept)
			}
			resp, body := e.get(host(idA, 5173), "/", headers...)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantText) {
				t.Errorf("status %d %q, want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantText)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if strings.Contains(body, "/secret/path") || strings.Contains(body, "127.0.0.1") {
				t.Errorf("the page shows internals: %q", body)
			}
			e.res.waitDone(t, tt.wantDone)
		})
	}
}

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"text/plain, text/html;q=0.5", false},
		{"text/html;q=0", false},
		{"application/json", false},
		{"TEXT/HTML ; q=0.7", true},
	}
	for _, tt := range tests {
		if got := prefersHTML([]string{tt.accept}); got != tt.want {
			t.Errorf("prefersHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

// TestDoneOnAbortAndDisconnect checks Done in the paths that do not end
// with a normal response: an upstream that dies mid-body (ReverseProxy
// panics with http.ErrAbortHandler) and a client that goes away mid-stream.
func TestDoneOnAbortAndDisconnect(t *testing.T) {
	t.Run("upstream dies mid-body", func(t *testing.T) {
		e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			w.Write([]byte("only ten b"))
			http.NewResponseController(w).Flush()
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
		}))
		e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
		resp, err := e.plain.Do(e.request(http.MethodGet, host(idA, 5173), "/", nil))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Error("the truncated body read without error")
		}
		e.res.waitDone(t, 1)
	})
	t.Run("client goes away", func(t *testing.T) {
		started := make(chan struct{})
		e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			http.NewResponseController(w).Flush()
			close(started)
			<-r.Context().Done()
		}))
		e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
		ctx, cancel := context.WithCancel(context.Background())
		req := e.request(http.MethodGet, host(idA, 5173), "/", nil).WithContext(ctx)
		resp, err := e.plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		<-started
		cancel()
		resp.Body.Close()
		e.res.waitDone(t, 1)
	})
	t.Run("client goes away while resolving", func(t *testing.T) {
		e := newEnv(t, echo)
		slow := &slowResolver{fakeResolver: e.res, entered: make(chan struct{})}
		e.p.resolver = slow
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-slow.entered; cancel() }()
		_, err := e.plain.Do(e.request(http.MethodGet, host(idA, 5173), "/", nil).WithContext(ctx))
		if err == nil {
			t.Fatal("request succeeded")
		}
		e.res.waitDone(t, 1)
		e.up.assertUntouched(t)
	})
}

// slowResolver resolves once the request's context has ended, like a wake
// the client did not wait for.
type slowResolver struct {
	*fakeResolver
	entered chan struct{}
}

func (s *slowResolver) Resolve(ctx context.Context, id string, port int) (Route, error) {
	close(s.entered)
	<-ctx.Done()
	return s.fakeResolver.Resolve(ctx, id, port)
}

func TestWebSocket(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(wsEcho))
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})

	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(conn, "GET /hmr HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vite-hmr\r\n\r\n",
		host(idA, 5173), key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) ||
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

func TestRequestLog(t *testing.T) {
	e := newEnv(t, echo)
	e.get(host(idA, 5173), "/?"+linkParam+"=secret-value", tokenHeader+": "+tokenA)
	e.get(host(idA, agentPort), "/")
	e.res.waitDone(t, 1)
	logs := e.logs.String()
	for _, want := range []string{
		"msg=request component=proxy sandbox=" + idA + " port=5173 method=GET status=200 duration=",
		"msg=request component=proxy sandbox=" + idA + " port=49983 method=GET status=403 duration=",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "secret-value") || strings.Contains(logs, tokenA) {
		t.Errorf("log shows a credential:\n%s", logs)
	}
}
