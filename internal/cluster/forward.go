package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
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
	subject, err := f.signer.Verify(tok, f.now())
	node, _, _ := strings.Cut(subject, teamSep)
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

// Call asks node to of something on behalf of team (a node's own request,
// such as a drain's move): the token says which team it acts for, and no
// key goes with it. The answer, JSON, is read into out; an error answer
// becomes an error with its message.
func (f *Forwarder) Call(ctx context.Context, to Node, team, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(to.APIURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderToken, f.signer.Sign(f.self+teamSep+team, f.now()))
	resp, err := (&http.Client{Transport: f.tr}).Do(req)
	if err != nil {
		return fmt.Errorf("%w: node %s does not answer: %v", errdefs.ErrUnavailable, to.Name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: reading node %s's answer: %v", errdefs.ErrUnavailable, to.Name, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("%w: node %s: %s (HTTP %d)", errdefs.ErrUnavailable, to.Name, e.Error.Message, resp.StatusCode)
	}
	return json.Unmarshal(data, out)
}

// teamSep joins the node and the team it acts for in a token's subject.
const teamSep = "@"

// ActsFor reports the team a node's own request (Call) acts for.
func (f *Forwarder) ActsFor(r *http.Request) (team string, ok bool) {
	tok := r.Header.Get(HeaderToken)
	if tok == "" {
		return "", false
	}
	subject, err := f.signer.Verify(tok, f.now())
	if err != nil {
		return "", false
	}
	_, team, ok = strings.Cut(subject, teamSep)
	return team, ok && team != ""
}
