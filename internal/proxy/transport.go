package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

const (
	dialTimeout = 5 * time.Second
	// idleConnTimeout closes a keep-alive connection nobody reused.
	idleConnTimeout = 90 * time.Second
	// forgetAfter drops the transport of an address unused this long.
	forgetAfter = 2 * idleConnTimeout
)

// upstreams is the proxy's RoundTripper: one http.Transport per upstream
// address, so the idle connections of one sandbox can be closed before it
// is checkpointed. A transport is forgotten once no request has used it for
// forgetAfter; one with a request or stream in flight never is, so no
// connection escapes closeIdle.
type upstreams struct {
	now  func() time.Time
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu        sync.Mutex
	byAddr    map[string]*upstream
	lastSweep time.Time
}

type upstream struct {
	tr       *http.Transport
	inFlight int       // responses whose body is not closed yet
	lastUsed time.Time // when inFlight last dropped to zero
}

func newUpstreams(now func() time.Time) *upstreams {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &upstreams{now: now, dial: d.DialContext, byAddr: map[string]*upstream{}, lastSweep: now()}
}

func (u *upstreams) newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never a proxy from the environment
		DialContext:           u.dial,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       idleConnTimeout,
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
	}
}

// RoundTrip sends req on the transport of its address.
func (u *upstreams) RoundTrip(req *http.Request) (*http.Response, error) {
	addr := req.URL.Host
	up := u.acquire(addr)
	resp, err := up.tr.RoundTrip(req)
	if err != nil {
		u.release(up)
		return nil, err
	}
	r := &releaser{release: sync.OnceFunc(func() { u.release(up) })}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
		// A switched protocol (websocket): ReverseProxy needs to write.
		resp.Body = &releaseRWC{ReadWriteCloser: rwc, releaser: r}
	} else {
		resp.Body = &releaseRC{ReadCloser: resp.Body, releaser: r}
	}
	return resp, nil
}

func (u *upstreams) acquire(addr string) *upstream {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sweepLocked()
	up := u.byAddr[addr]
	if up == nil {
		up = &upstream{tr: u.newTransport()}
		u.byAddr[addr] = up
	}
	up.inFlight++
	return up
}

func (u *upstreams) release(up *upstream) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up.inFlight--
	if up.inFlight == 0 {
		up.lastUsed = u.now()
	}
}

// sweepLocked forgets, at most once a minute, the transports unused for
// forgetAfter, closing their idle connections.
func (u *upstreams) sweepLocked() {
	now := u.now()
	if now.Sub(u.lastSweep) < time.Minute {
		return
	}
	u.lastSweep = now
	for addr, up := range u.byAddr {
		if up.inFlight == 0 && now.Sub(up.lastUsed) >= forgetAfter {
			up.tr.CloseIdleConnections()
			delete(u.byAddr, addr)
		}
	}
}

func (u *upstreams) closeIdle(addr string) {
	u.mu.Lock()
	up := u.byAddr[addr]
	u.mu.Unlock()
	if up != nil {
		up.tr.CloseIdleConnections()
	}
}

// releaser marks the end of a response once its body is closed.
type releaser struct{ release func() }

type releaseRC struct {
	io.ReadCloser
	*releaser
}

func (b *releaseRC) Close() error { return b.closeThenRelease(b.ReadCloser.Close) }

type releaseRWC struct {
	io.ReadWriteCloser
	*releaser
}

func (b *releaseRWC) Close() error { return b.closeThenRelease(b.ReadWriteCloser.Close) }

// closeThenRelease closes a body with closeBody, then marks the response's end.
func (r *releaser) closeThenRelease(closeBody func() error) error {
	err := closeBody()
	r.release()
	return err
}
