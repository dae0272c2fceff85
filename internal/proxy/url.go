package proxy

import (
	"net/url"
	"strconv"
	"time"
)

// URL returns the address of a sandbox port, such as
// "http://5173-sandbox-abc123xyz890.sandboxes.localhost:8080/" ("https"
// when the proxy serves TLS).
func (p *Proxy) URL(sandboxID string, port int) string {
	scheme, defaultPort := "http", 80
	if p.tls != nil {
		scheme, defaultPort = "https", 443
	}
	host := hostName(sandboxID, port, p.domain)
	if p.publicPort != 0 && p.publicPort != defaultPort {
		host += ":" + strconv.Itoa(p.publicPort)
	}
	return scheme + "://" + host + "/"
}

// SignedURL returns URL with a ?runtools_link= parameter that opens the
// private port for ttl: the proxy trades it for a cookie bound to this
// sandbox port that expires with the link, and redirects to URL. A link is
// valid for its sandbox ID and port only.
func (p *Proxy) SignedURL(sandboxID string, port int, ttl time.Duration) string {
	exp := p.now().Add(ttl)
	if exp.Nanosecond() != 0 { // a whole second, rounded up
		exp = exp.Truncate(time.Second).Add(time.Second)
	}
	return p.URL(sandboxID, port) + "?" + linkParam + "=" +
		url.QueryEscape(p.sign(purposeLink, sandboxID, port, exp))
}
