package cluster

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// HeaderToken carries the token of the node that forwarded a request.
const HeaderToken = "Runtools-Node-Token"

// Forwarder sends requests on to the node that serves them, and knows the
// requests another node sent it.
type Forwarder struct {
	self   string
	signer *Signer
	now    func() time.Time
	tr     http.RoundTripper
	mu     sync.Mutex
	byURL  map[string]*httputil.ReverseProxy
}

// NewForwarder returns the Forwarder of node self.
func NewForwarder(self string, signer *Signer) *Forwarder {
	tr := &http.Transport{
		Proxy:                 nil, // nodes reach each other directly, whatever HTTP_PROXY says
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // exec and watch answer when they have something to say
	}
	return &Forwarder{self: self, signer: signer, now: time.Now, tr: tr, byURL: map[string]*httputil.ReverseProxy{}}
}

// Forward serves r by sending it on to node to, as it came (the caller's
// own key goes with it: the owner checks it again), with this node's
// token. Answers stream through, upgrades (WebSockets) too. If to cannot
// be reached, fail is called with an errdefs.ErrUnavailable error before
// anything was written.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, to Node, fail func(error)) {
	rp, err := f.proxyTo(to.APIURL)
	if err != nil {
		fail(err)
		return
	}
	r = r.WithContext(withFailure(r.Context(), to.Name, fail))
	rp.ServeHTTP(w, r)
}

// Forwarded reports whether r was forwarded by a node of this cluster (its
// token is good), and by which.
func (f *Forwarder) Forwarded(r *http.Request) (string, bool) {
	tok := r.Header.Get(HeaderToken)
	if tok == "" {
		return "", false
	}
	node, err := f.signer.Verify(tok, f.now())
	return node, err == nil
}

func (f *Forwarder) proxyTo(base string) (*httputil.ReverseProxy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rp := f.byURL[base]; rp != nil {
		return rp, nil
	}
	target, err := url.Parse(base)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("%w: the node's address %q is not a URL", errdefs.ErrUnavailable, base)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(HeaderToken, f.signer.Sign(f.self, f.now()))
		},
		Transport:     f.tr,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			node, fail := failure(r.Context())
			fail(fmt.Errorf("%w: node %s, which runs this sandbox, does not answer (%v); retry, or see `runtools node list`", errdefs.ErrUnavailable, node, err))
		},
	}
	f.byURL[base] = rp
	return rp, nil
}
