// Package proxy is the host-based reverse proxy that makes every sandbox port
// reachable at {port}-{sandboxId}.{domain}: it parses the host, asks a
// Resolver where the sandbox lives, checks access and forwards the request
// (websockets and streams included) to the sandbox's private address.
package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/runtools/runtools/internal/errdefs"
)

// DefaultDomain is the domain used when Config.Domain is empty. Browsers and
// curl resolve every name under .localhost to the loopback address.
const DefaultDomain = "sandboxes.localhost"

// Config is what the daemon tells the proxy.
type Config struct {
	// Domain is the parent of every sandbox host; default DefaultDomain.
	Domain string
	// PublicPort is the port shown in URLs: the listen port, 0 for none;
	// 80 for http and 443 for https are left out.
	PublicPort int
	// CertFile and KeyFile turn on TLS with a certificate for *.Domain.
	// The files are read again when they change.
	CertFile, KeyFile string
	// ACME turns on automatic certificates, one per host (a wildcard
	// certificate needs the DNS-01 challenge, which is not supported here).
	ACME         bool
	ACMEEmail    string
	ACMECacheDir string
	// ReservedPorts are never proxied, whatever the request says.
	ReservedPorts []int
	// SigningKey is the HMAC-SHA256 key of signed links and cookies
	// (at least 32 bytes).
	SigningKey []byte
	// Observer, if set, is told about requests and traffic.
	Observer Observer
}

// Route says where a request for one sandbox port goes.
type Route struct {
	// Via, when set, is the HOST:PORT of the proxy of the cluster node
	// that runs the sandbox: the request goes there as it came, and that
	// proxy checks access. Nothing else is set.
	Via    string
	Addr   string // "10.123.0.5:5173": where to send it
	Public bool   // no access token needed
	Token  string // the sandbox's access token (private URLs)
	// Wake, if set, is called once the request has passed the access
	// check and before anything is sent upstream: it wakes a paused
	// sandbox and counts it busy, so a request without access never
	// wakes anything. Its errors are reported like Resolve's.
	Wake func(ctx context.Context) error
	// Done is called exactly once when the request (or the websocket or
	// stream) is over; the sandbox counts as busy meanwhile. May be nil.
	Done func()
}

// Resolver finds the route to a sandbox port. It is called only after the
// host parsed cleanly and the port is not reserved; it wakes a paused
// sandbox (the caller just waits). Its errors: errdefs.ErrNotFound for an
// unknown sandbox (404), errdefs.ErrPermissionDenied for a port that is not
// exposed (403), errdefs.ErrUnavailable or errdefs.ErrConflict for a sandbox
// that is starting or not running (503); anything else is a 502.
type Resolver interface {
	Resolve(ctx context.Context, sandboxID string, port int) (Route, error)
}

// Proxy is the sandbox reverse proxy.
type Proxy struct {
	domain     string
	publicPort int
	reserved   map[int]bool
	key        []byte
	resolver   Resolver
	log        *slog.Logger
	obs        Observer // nil: none

	tls    *tls.Config // nil for plain HTTP
	certs  *certFile   // CertFile/KeyFile, or nil
	acme   *autocert.Manager
	rp     *httputil.ReverseProxy
	pool   *upstreams
	now    func() time.Time
	handle http.Handler

	relayOnce sync.Once
	relayRP   *httputil.ReverseProxy // of requests for other nodes' sandboxes (relay.go)
}

// New checks cfg and returns a proxy. It loads the certificate when one is
// configured.
func New(cfg Config, r Resolver, log *slog.Logger) (*Proxy, error) {
	if r == nil {
		return nil, fmt.Errorf("creating the proxy: no resolver: %w", errdefs.ErrInvalidArgument)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	domain, err := normalizeDomain(cfg.Domain)
	if err != nil {
		return nil, err
	}
	if cfg.PublicPort < 0 || cfg.PublicPort > 65535 {
		return nil, fmt.Errorf("proxy public port %d is out of range: %w", cfg.PublicPort, errdefs.ErrInvalidArgument)
	}
	if len(cfg.SigningKey) < 32 {
		return nil, fmt.Errorf("proxy signing key has %d bytes, at least 32 are needed: %w",
			len(cfg.SigningKey), errdefs.ErrInvalidArgument)
	}
	reserved := make(map[int]bool, len(cfg.ReservedPorts))
	for _, port := range cfg.ReservedPorts {
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("reserved port %d is out of range: %w", port, errdefs.ErrInvalidArgument)
		}
		reserved[port] = true
	}
	p := &Proxy{
		domain:     domain,
		publicPort: cfg.PublicPort,
		reserved:   reserved,
		key:        append([]byte(nil), cfg.SigningKey...),
		resolver:   r,
		log:        log.With("component", "proxy"),
		obs:        cfg.Observer,
		now:        time.Now,
	}
	if err := p.setupTLS(cfg); err != nil {
		return nil, err
	}
	p.pool = newUpstreams(p.now)
	p.rp = p.newReverseProxy()
	p.handle = http.HandlerFunc(p.serveHTTP)
	return p, nil
}

// Handler returns the proxy's HTTP handler, for use with any server.
func (p *Proxy) Handler() http.Handler { return p.handle }

// CloseIdle closes the idle keep-alive connections to the upstream address
// addr ("10.123.0.5:5173"). The daemon calls it before checkpointing a
// sandbox: a TCP connection open at checkpoint can break the restored
// network. Connections in use (a request, a websocket) are left alone; the
// sandbox counts as busy until their Route.Done.
func (p *Proxy) CloseIdle(addr string) { p.pool.closeIdle(addr) }

// normalizeDomain lowercases the domain, drops a trailing dot and checks it
// is a hostname.
func normalizeDomain(d string) (string, error) {
	if d == "" {
		return DefaultDomain, nil
	}
	d = strings.TrimSuffix(asciiLower(d), ".")
	bad := func(why string) error {
		return fmt.Errorf("proxy domain %q %s: %w", d, why, errdefs.ErrInvalidArgument)
	}
	if d == "" || len(d) > 253 {
		return "", bad("is not a hostname")
	}
	if net.ParseIP(d) != nil {
		return "", bad("is an IP address, not a hostname")
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", bad("has an empty, long or dash-edged label")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isLowerAlnum(c) && c != '-' {
				return "", bad("has a character other than a-z, 0-9, '-' and '.'")
			}
		}
	}
	return d, nil
}
