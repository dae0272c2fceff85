package proxy

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connWatch counts an httptest server's open connections.
type connWatch struct {
	mu   sync.Mutex
	open map[net.Conn]bool
}

func watchConns(up *devServer) *connWatch {
	w := &connWatch{open: map[net.Conn]bool{}}
	up.Config.ConnState = func(c net.Conn, s http.ConnState) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch s {
		case http.StateNew:
			w.open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(w.open, c)
		}
	}
	return w
}

func (w *connWatch) waitOpen(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.open)
		w.mu.Unlock()
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d upstream connections open, want %d", n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseIdle checks that CloseIdle closes the keep-alive connections to
// one sandbox address and leaves the others alone.
func TestCloseIdle(t *testing.T) {
	res := newFakeResolver(t)
	upA := newDevServerUnstarted(t, echo)
	upB := newDevServerUnstarted(t, echo)
	watchA, watchB := watchConns(upA), watchConns(upB)
	upA.Start()
	upB.Start()
	res.set(idA, Route{Addr: upA.addr(), Public: true})
	res.set(idB, Route{Addr: upB.addr(), Public: true})
	e := newEnv(t, echo)
	e.p.resolver = res

	for _, id := range []string{idA, idB} {
		if resp, body := e.get(host(id, 5173), "/"); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", id, resp.StatusCode, body)
		}
	}
	watchA.waitOpen(t, 1)
	watchB.waitOpen(t, 1)

	e.p.CloseIdle(upA.addr())
	watchA.waitOpen(t, 0)
	time.Sleep(50 * time.Millisecond)
	watchB.waitOpen(t, 1)

	e.p.CloseIdle("10.0.0.1:1") // unknown: nothing happens
	e.p.CloseIdle(upB.addr())
	watchB.waitOpen(t, 0)
	res.waitDone(t, 2)
}

// TestTransportsForgotten checks that a transport unused for a while is
// dropped with its idle connections, and one in use is kept.
func TestTransportsForgotten(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }

	upA := newDevServerUnstarted(t, echo)
	watchA := watchConns(upA)
	upA.Start()
	blocking := make(chan struct{})
	upB := newDevServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		http.NewResponseController(w).Flush()
		<-blocking
	}))
	e := newEnv(t, echo)
	e.res.set(idA, Route{Addr: upA.addr(), Public: true})
	e.res.set(idB, Route{Addr: upB.addr(), Public: true})
	e.p.now = clock
	e.p.pool.now = clock

	e.get(host(idA, 5173), "/")
	watchA.waitOpen(t, 1)
	// B holds a stream open.
	resp, err := e.plain.Do(e.request(http.MethodGet, host(idB, 5173), "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	now.Add(int64(forgetAfter + time.Minute))
	e.get(host(idA, 3000), "/") // any request sweeps; A is used again right after
	e.p.pool.mu.Lock()
	_, haveB := e.p.pool.byAddr[upB.addr()]
	e.p.pool.mu.Unlock()
	if !haveB {
		t.Error("the transport of a stream in flight was forgotten")
	}

	now.Add(int64(forgetAfter + time.Minute))
	e.get(host("sandbox-other123", 1), "/") // unknown sandbox: no sweep
	e.p.pool.mu.Lock()
	n := len(e.p.pool.byAddr)
	e.p.pool.mu.Unlock()
	if n != 2 {
		t.Errorf("%d transports before a sweep, want 2", n)
	}
	close(blocking)
	resp.Body.Close()
	e.res.waitDone(t, 3)
	e.res.set(idB, Route{Addr: "127.0.0.1:1", Public: true}) // refused, but it sweeps
	now.Add(int64(forgetAfter + time.Minute))
	e.get(host(idB, 5173), "/")
	watchA.waitOpen(t, 0)
	e.p.pool.mu.Lock()
	_, haveA := e.p.pool.byAddr[upA.addr()]
	_, haveB = e.p.pool.byAddr[upB.addr()]
	e.p.pool.mu.Unlock()
	if haveA || haveB {
		t.Errorf("transports unused for %v are kept: A %v B %v", forgetAfter, haveA, haveB)
	}
}

func TestTransportSettings(t *testing.T) {
	tr := newUpstreams(time.Now).newTransport()
	if tr.Proxy != nil || !tr.DisableCompression || tr.ResponseHeaderTimeout != 0 || tr.IdleConnTimeout == 0 || tr.DisableKeepAlives {
		t.Errorf("transport %+v: want no proxy, no compression, no overall timeout, keep-alive", tr)
	}
}
