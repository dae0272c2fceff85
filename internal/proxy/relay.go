package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"time"
)

// hopHeader marks a request one node's proxy relayed to another's: that
// one serves it or fails, never relays it again, so a sandbox moving
// between nodes cannot send a request round in circles.
const hopHeader = "Runtools-Proxy-Hop"

// relay sends r, as it came, to the proxy of the cluster node at via that
// runs sandbox id; that proxy checks access and answers. Answers stream,
// and websockets pass through.
func (p *Proxy) relay(w http.ResponseWriter, r *http.Request, id, via string) {
	if r.Header.Get(hopHeader) != "" {
		p.page(w, r, http.StatusBadGateway, fmt.Sprintf("sandbox %s moved to another node while this request was on its way; retry", id))
		return
	}
	p.relayProxy().ServeHTTP(w, r.WithContext(withVia(r.Context(), via, id)))
}

// relayProxy is the one ReverseProxy of relayed requests, made at first use.
func (p *Proxy) relayProxy() *httputil.ReverseProxy {
	p.relayOnce.Do(func() {
		scheme := "http"
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}
		if p.tls != nil {
			scheme = "https"
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12} // the node's certificate is for *.DOMAIN, as the Host says
		}
		p.relayRP = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				via, _ := viaOf(pr.In.Context())
				pr.Out.URL.Scheme, pr.Out.URL.Host = scheme, via
				pr.Out.Host = pr.In.Host
				pr.SetXForwarded()
				pr.Out.Header.Set(hopHeader, "1")
			},
			Transport:     tr,
			FlushInterval: -1,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				via, id := viaOf(r.Context())
				p.log.Warn("relaying to the node that runs a sandbox", "sandbox", id, "node_proxy", via, "err", err)
				p.page(w, r, http.StatusBadGateway, fmt.Sprintf("the node that runs sandbox %s does not answer; retry, or see `runtools node list`", id))
			},
		}
	})
	return p.relayRP
}

type viaKey struct{}

type viaVal struct{ via, id string }

func withVia(ctx context.Context, via, id string) context.Context {
	return context.WithValue(ctx, viaKey{}, viaVal{via, id})
}

// viaOf returns where a relayed request goes, and for which sandbox.
func viaOf(ctx context.Context) (via, id string) {
	v, _ := ctx.Value(viaKey{}).(viaVal)
	return v.via, v.id
}
