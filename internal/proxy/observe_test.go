package proxy

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	statuses []int
	to, from int64
}

func (r *recorder) Request(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, status)
}

func (r *recorder) ToSandbox(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.to += n
}

func (r *recorder) FromSandbox(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.from += n
}

// wait waits for n requests and returns what was seen.
func (r *recorder) wait(t *testing.T, n int) (statuses []int, to, from int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		statuses, to, from = slices.Clone(r.statuses), r.to, r.from
		r.mu.Unlock()
		if len(statuses) >= n || time.Now().After(deadline) {
			return statuses, to, from
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserverCountsRequestsAndBytes(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %d bytes", len(b))
	}))
	rec := &recorder{}
	e.p.obs = rec

	body := strings.Repeat("x", 1000)
	req := e.request(http.MethodPost, host(idA, 3000), "/upload", strings.NewReader(body))
	req.Header.Set(tokenHeader, tokenA)
	resp, answer := e.do(req)
	if resp.StatusCode != http.StatusOK || answer != "got 1000 bytes" {
		t.Fatalf("upload: %d %q", resp.StatusCode, answer)
	}
	statuses, to, from := rec.wait(t, 1)
	if !slices.Equal(statuses, []int{200}) || to != 1000 || from != int64(len(answer)) {
		t.Errorf("after an upload: statuses %v, %d bytes to and %d from the sandbox; want [200], 1000, %d",
			statuses, to, from, len(answer))
	}

	// Refused requests count, without traffic.
	if resp, _ := e.get(host(idA, 3000), "/"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := e.get(host("sandbox-nonexist", 3000), "/"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown sandbox: %d", resp.StatusCode)
	}
	statuses, to2, from2 := rec.wait(t, 3)
	if !slices.Equal(statuses, []int{200, 401, 404}) || to2 != to || from2 != from {
		t.Errorf("after refusals: statuses %v, bytes %d/%d, want [200 401 404], %d/%d", statuses, to2, from2, to, from)
	}
}

func TestObserverCountsWebSocket(t *testing.T) {
	e := newEnv(t, http.HandlerFunc(wsEcho))
	e.res.set(idA, Route{Addr: e.up.addr(), Public: true})
	rec := &recorder{}
	e.p.obs = rec

	conn, br, resp := e.dialWebSocket(t, "/ws", "")
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v", resp)
	}
	msg := []byte(strings.Repeat("m", 500))
	if err := writeFrame(conn, 0x1, msg, true); err != nil {
		t.Fatal(err)
	}
	if _, got, err := readFrame(br); err != nil || len(got) != len(msg) {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
	writeFrame(conn, 0x8, nil, true)
	readFrame(br)
	conn.Close()

	statuses, to, from := rec.wait(t, 1)
	// Frames carry a few bytes of header, and a mask from the client.
	if !slices.Equal(statuses, []int{101}) || to < 500 || to > 600 || from < 500 || from > 600 {
		t.Errorf("websocket: statuses %v, %d bytes to and %d from the sandbox; want [101] and about 500 each way",
			statuses, to, from)
	}
}
