package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// target is a request's sandbox port and the route the Resolver gave.
type target struct {
	id    string
	port  int
	route Route
}

type targetKey struct{}

// serveHTTP checks the host, resolves the sandbox, checks access and
// forwards. Nothing is sent upstream before all checks passed.
func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	var id string
	var port int
	defer func() {
		if p.log.Enabled(r.Context(), slog.LevelDebug) { // the arguments cost even when not logged
			p.log.DebugContext(r.Context(), "request", "sandbox", id, "port", port,
				"method", r.Method, "status", sw.loggedStatus(r), "duration", time.Since(start))
		}
		if p.obs != nil {
			p.obs.Request(sw.loggedStatus(r))
		}
	}()

	var ok bool
	if id, port, ok = p.sandboxPort(sw, r); !ok {
		return
	}

	route, err := p.resolver.Resolve(r.Context(), id, port)
	if err != nil {
		p.resolveError(sw, r, id, port, err)
		return
	}
	if route.Via != "" {
		p.relay(sw, r, id, route.Via)
		return
	}
	done := sync.OnceFunc(func() {
		if route.Done != nil {
			route.Done()
		}
	})
	defer done()
	if err := p.checkAddr(route.Addr); err != nil {
		p.log.ErrorContext(r.Context(), "refusing a route", "sandbox", id, "port", port, "err", err)
		p.page(sw, r, http.StatusBadGateway, fmt.Sprintf("sandbox %s has no usable route to port %d", id, port))
		return
	}

	t := &target{id: id, port: port, route: route}
	a := p.checkAccess(r, t)
	if !a.allowed {
		p.page(sw, r, http.StatusUnauthorized, fmt.Sprintf("port %d of sandbox %s is private, and %s. "+
			"To open it in a browser, get a signed link with `runtools sandbox url %s %d --signed`; "+
			"from a program, send the header %s: <the sandbox's access token>",
			port, id, a.why, id, port, tokenHeader))
		return
	}
	if a.link.ok {
		p.grantCookie(sw, r, t, a.link)
		return
	}
	if route.Wake != nil {
		if err := route.Wake(r.Context()); err != nil {
			p.resolveError(sw, r, id, port, err)
			return
		}
	}
	p.rp.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
}

// sandboxPort returns the sandbox and port r's host names, or answers r
// and returns false when it names none the proxy forwards to. The sandbox
// and port are what the host gave even then, for the log.
func (p *Proxy) sandboxPort(w http.ResponseWriter, r *http.Request) (id string, port int, ok bool) {
	if r.Method == http.MethodConnect {
		p.page(w, r, http.StatusMethodNotAllowed, "the sandbox proxy does not support CONNECT")
		return "", 0, false
	}
	if r.URL.Host != "" && !asciiEqualFold(r.URL.Host, r.Host) {
		p.page(w, r, http.StatusBadRequest, fmt.Sprintf(
			"the request target names host %q but the Host header says %q", r.URL.Host, r.Host))
		return "", 0, false
	}
	id, port, err := ParseHost(r.Host, p.domain)
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		p.page(w, r, http.StatusNotFound, "this address names no sandbox; "+p.shape())
		return id, port, false
	case err != nil:
		why := "it is not one"
		if he := (*HostError)(nil); errors.As(err, &he) {
			why = he.Why
		}
		p.page(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a sandbox address (%s); %s", r.Host, why, p.shape()))
		return id, port, false
	}
	if p.reserved[port] {
		p.page(w, r, http.StatusForbidden, fmt.Sprintf("port %d is reserved", port))
		return id, port, false
	}
	return id, port, true
}

// checkAddr refuses a route to a malformed address or a reserved port,
// whatever the Resolver says.
func (p *Proxy) checkAddr(addr string) error {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("route address %q: %w", addr, err)
	}
	port, ok := parsePort(portText)
	if !ok {
		return fmt.Errorf("route address %q has no valid port", addr)
	}
	if p.reserved[port] {
		return fmt.Errorf("route address %q is on reserved port %d", addr, port)
	}
	return nil
}

func (p *Proxy) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		ModifyResponse: p.countResponse,
		Transport:      p.pool,
		FlushInterval:  0, // streams (SSE, chunked) are flushed at once by ReverseProxy itself
		BufferPool:     &bufferPool{},
		ErrorHandler:   p.upstreamError,
		ErrorLog:       slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
}

// rewrite sends the request to the sandbox with Host localhost:{port} (what
// dev servers accept), without the client's credentials for the proxy or
// its forwarding headers, and with X-Forwarded-* set by the proxy.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	t := pr.In.Context().Value(targetKey{}).(*target)
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = t.route.Addr
	pr.Out.URL.User = nil
	pr.Out.Host = "localhost:" + strconv.Itoa(t.port)
	for name := range pr.Out.Header {
		if name == "Forwarded" || name == "X-Real-Ip" || strings.HasPrefix(name, "X-Forwarded-") {
			delete(pr.Out.Header, name)
		}
	}
	stripCredentials(pr.Out)
	pr.SetXForwarded()
	p.countRequest(pr)
}

// upstreamError answers when the sandbox could not be reached or the
// exchange failed before the response started.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	t := r.Context().Value(targetKey{}).(*target)
	log := p.log.With("sandbox", t.id, "port", t.port, "err", err)
	var ne net.Error
	switch {
	case r.Context().Err() != nil:
		log.DebugContext(r.Context(), "client went away")
	case errors.Is(err, syscall.ECONNREFUSED):
		p.page(w, r, http.StatusBadGateway, fmt.Sprintf(
			"nothing is listening on port %d in sandbox %s yet: start your dev server there, "+
				"listening on 0.0.0.0 (e.g. `npm run dev -- --host`)", t.port, t.id))
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		log.InfoContext(r.Context(), "upstream timed out")
		p.page(w, r, http.StatusGatewayTimeout, fmt.Sprintf(
			"port %d in sandbox %s did not accept a connection in time", t.port, t.id))
	default:
		log.InfoContext(r.Context(), "upstream failed")
		p.page(w, r, http.StatusBadGateway, fmt.Sprintf(
			"the connection to port %d in sandbox %s failed before it answered", t.port, t.id))
	}
}

// resolveError answers a Resolver error with the page of its kind.
func (p *Proxy) resolveError(w http.ResponseWriter, r *http.Request, id string, port int, err error) {
	switch {
	case r.Context().Err() != nil:
		p.log.DebugContext(r.Context(), "client went away while resolving", "sandbox", id, "err", err)
	case errors.Is(err, errdefs.ErrNotFound):
		p.page(w, r, http.StatusNotFound, fmt.Sprintf("no sandbox %s", id))
	case errors.Is(err, errdefs.ErrPermissionDenied):
		p.page(w, r, http.StatusForbidden, fmt.Sprintf(
			"port %d is not exposed; `runtools sandbox expose %s %d` exposes it", port, id, port))
	case errors.Is(err, errdefs.ErrUnavailable), errors.Is(err, errdefs.ErrConflict):
		w.Header().Set("Retry-After", "2")
		p.page(w, r, http.StatusServiceUnavailable, fmt.Sprintf(
			"sandbox %s is starting or not running: %v", id, err))
	default:
		p.log.WarnContext(r.Context(), "resolving a sandbox failed", "sandbox", id, "port", port, "err", err)
		p.page(w, r, http.StatusBadGateway, fmt.Sprintf("sandbox %s could not be reached", id))
	}
}

// shape explains what a sandbox address looks like.
func (p *Proxy) shape() string {
	return fmt.Sprintf("sandbox addresses look like %s: {port}-{sandbox id}.%s, "+
		"with a port from 1 to 65535 and an id like sandbox-abc123xyz890",
		p.URL("sandbox-abc123xyz890", 5173), p.domain)
}

// bufferPool lends ReverseProxy the buffers it copies bodies through, so a
// request does not cost a new 32 KiB one.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.pool.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }
