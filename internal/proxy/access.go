package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The names a client uses to prove access. The proxy removes all three
// before forwarding, so the sandbox never sees them.
const (
	tokenHeader = "X-Runtools-Access-Token"
	cookieName  = "runtools_access"
	linkParam   = "runtools_link"
)

// What a signature is for, so a link's value is no cookie and the other way
// round.
const (
	purposeLink   = "link"
	purposeCookie = "cookie"
)

// A grant is what a valid credential allows: until when.
type grant struct {
	ok      bool
	expires time.Time // zero for the access token
}

// sign returns "{unix expiry}.{mac}", the MAC binding purpose, sandbox ID,
// port and expiry.
func (p *Proxy) sign(purpose, sandboxID string, port int, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + base64.RawURLEncoding.EncodeToString(p.mac(purpose, sandboxID, port, exp))
}

func (p *Proxy) mac(purpose, sandboxID string, port int, exp string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("runtools-proxy\x00" + purpose + "\x00" + sandboxID + "\x00" +
		strconv.Itoa(port) + "\x00" + exp))
	return m.Sum(nil)
}

// verify checks a value made by sign for this purpose, sandbox and port,
// and that it has not expired.
func (p *Proxy) verify(purpose, sandboxID string, port int, value string) grant {
	exp, sig, ok := strings.Cut(value, ".")
	if !ok {
		return grant{}
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(unix, 10) != exp {
		return grant{}
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig) // one spelling per MAC
	if err != nil || !hmac.Equal(got, p.mac(purpose, sandboxID, port, exp)) {
		return grant{}
	}
	expires := time.Unix(unix, 0)
	if !p.now().Before(expires) {
		return grant{}
	}
	return grant{ok: true, expires: expires}
}

// tokenMatches compares the access header with the route's token in
// constant time (hashing first, so neither length shows either).
func tokenMatches(got, want string) bool {
	if got == "" || want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// access is the outcome of looking at a request's credentials.
type access struct {
	allowed bool
	// link is a valid ?runtools_link: set the cookie and redirect.
	link grant
	// why explains a refusal.
	why string
}

// checkAccess decides whether r may reach a private sandbox port.
func (p *Proxy) checkAccess(r *http.Request, t *target) access {
	if t.route.Public {
		return access{allowed: true}
	}
	if v := linkValue(r.URL.RawQuery); v != "" {
		if g := p.verify(purposeLink, t.id, t.port, v); g.ok {
			return access{allowed: true, link: g}
		}
	}
	if tokenMatches(r.Header.Get(tokenHeader), t.route.Token) {
		return access{allowed: true}
	}
	for _, c := range r.Cookies() {
		if c.Name == cookieName && p.verify(purposeCookie, t.id, t.port, c.Value).ok {
			return access{allowed: true}
		}
	}
	switch {
	case linkValue(r.URL.RawQuery) != "":
		return access{why: "the signed link in this request has expired or is not for this port"}
	case r.Header.Get(tokenHeader) != "":
		return access{why: "the " + tokenHeader + " header of this request is not its token"}
	default:
		return access{why: "no access token, cookie or signed link came with this request"}
	}
}

// grantCookie sets the access cookie for this exact host, expiring with the
// link that granted it, and redirects to the same URL without the link.
func (p *Proxy) grantCookie(w http.ResponseWriter, r *http.Request, t *target, g grant) {
	c := &http.Cookie{
		Name:     cookieName,
		Value:    p.sign(purposeCookie, t.id, t.port, g.expires),
		Path:     "/",
		Expires:  g.expires,
		MaxAge:   max(1, int(g.expires.Sub(p.now()).Seconds())),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	}
	if r.Header.Get("Sec-Fetch-Dest") == "iframe" {
		// A link opened in a frame (a page embedding a preview of the
		// sandbox's port): a browser keeps no Lax cookie from a cross-site
		// frame. This one is partitioned, so only frames under the same
		// top-level site get it.
		c.SameSite, c.Secure, c.Partitioned = http.SameSiteNoneMode, true, true
	}
	http.SetCookie(w, c)
	loc := r.URL.EscapedPath()
	if loc == "" || loc[0] != '/' {
		loc = "/" + loc
	}
	if strings.HasPrefix(loc, "//") {
		// "//x" would be read as another host.
		loc = "/" + strings.TrimLeft(loc, "/")
	}
	if q := withoutLink(r.URL.RawQuery); q != "" {
		loc += "?" + q
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}

// stripCredentials removes the access header, cookie and link from the
// outbound request.
func stripCredentials(out *http.Request) {
	out.Header.Del(tokenHeader)
	out.URL.RawQuery = withoutLink(out.URL.RawQuery)
	out.URL.ForceQuery = false
	var kept []string
	for _, line := range out.Header.Values("Cookie") {
		var parts []string
		for part := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.TrimSpace(part) != "" && strings.TrimSpace(name) != cookieName {
				parts = append(parts, strings.TrimSpace(part))
			}
		}
		if len(parts) > 0 {
			kept = append(kept, strings.Join(parts, "; "))
		}
	}
	out.Header.Del("Cookie")
	if len(kept) > 0 {
		out.Header["Cookie"] = kept
	}
}

// linkValue returns the first runtools_link value of a raw query.
func linkValue(rawQuery string) string {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == linkParam {
			if val, err := url.QueryUnescape(v); err == nil {
				return val
			}
		}
	}
	return ""
}

// withoutLink returns the raw query without its runtools_link parameters,
// leaving the others exactly as they were.
func withoutLink(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == linkParam {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}
