package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAccess(t *testing.T) {
	e := newEnv(t, echo)
	e.res.set("sandbox-pub11111", Route{Addr: e.up.addr(), Public: true})
	e.res.set("sandbox-notoken1", Route{Addr: e.up.addr()})
	linkA := linkOf(t, e.p.SignedURL(idA, 5173, time.Hour))
	linkB := linkOf(t, e.p.SignedURL(idB, 5173, time.Hour))
	linkA3000 := linkOf(t, e.p.SignedURL(idA, 3000, time.Hour))
	expired := linkOf(t, e.p.SignedURL(idA, 5173, -time.Second))
	cookieA := e.p.sign(purposeCookie, idA, 5173, time.Now().Add(time.Hour))
	cookieB := e.p.sign(purposeCookie, idB, 5173, time.Now().Add(time.Hour))
	oldCookieA := e.p.sign(purposeCookie, idA, 5173, time.Now().Add(-time.Second))
	tampered := []byte(linkA)
	tampered[len(tampered)-10] ^= 1 // still base64url, another MAC
	lastBit := []byte(linkA)
	lastBit[len(lastBit)-1] ^= 1 // maybe only the unused bits of the last character
	exp, mac, _ := strings.Cut(linkA, ".")
	later := strings.Replace(exp, exp[:1], string(exp[0]+1), 1) + "." + mac

	tests := []struct {
		name       string
		host       string
		path       string
		headers    []string
		wantStatus int
	}{
		{name: "public", host: host("sandbox-pub11111", 5173), wantStatus: 200},
		{name: "public ignores a bad token", host: host("sandbox-pub11111", 5173), headers: []string{tokenHeader + ": nope"}, wantStatus: 200},
		{name: "nothing", host: host(idA, 5173), wantStatus: 401},
		{name: "header", host: host(idA, 5173), headers: []string{tokenHeader + ": " + tokenA}, wantStatus: 200},
		{name: "header on another port", host: host(idA, 3000), headers: []string{tokenHeader + ": " + tokenA}, wantStatus: 200},
		{name: "wrong header", host: host(idA, 5173), headers: []string{tokenHeader + ": " + tokenA + "x"}, wantStatus: 401},
		{name: "empty header", host: host(idA, 5173), headers: []string{tokenHeader + ":"}, wantStatus: 401},
		{name: "another sandbox's token", host: host(idA, 5173), headers: []string{tokenHeader + ": " + tokenB}, wantStatus: 401},
		{name: "empty token never matches", host: host("sandbox-notoken1", 5173), headers: []string{tokenHeader + ":  "}, wantStatus: 401},
		{name: "token in a cookie is no cookie", host: host(idA, 5173), headers: []string{"Cookie: " + cookieName + "=" + tokenA}, wantStatus: 401},
		{name: "link redirects", host: host(idA, 5173), path: "/?" + linkParam + "=" + linkA, wantStatus: 302},
		{name: "expired link", host: host(idA, 5173), path: "/?" + linkParam + "=" + expired, wantStatus: 401},
		{name: "tampered link", host: host(idA, 5173), path: "/?" + linkParam + "=" + string(tampered), wantStatus: 401},
		{name: "link with its last character changed", host: host(idA, 5173), path: "/?" + linkParam + "=" + string(lastBit), wantStatus: 401},
		{name: "link with a later expiry", host: host(idA, 5173), path: "/?" + linkParam + "=" + later, wantStatus: 401},
		{name: "garbage link", host: host(idA, 5173), path: "/?" + linkParam + "=x.y", wantStatus: 401},
		{name: "another sandbox's link", host: host(idA, 5173), path: "/?" + linkParam + "=" + linkB, wantStatus: 401},
		{name: "another port's link", host: host(idA, 5173), path: "/?" + linkParam + "=" + linkA3000, wantStatus: 401},
		{name: "link used as a cookie", host: host(idA, 5173), headers: []string{"Cookie: " + cookieName + "=" + linkA}, wantStatus: 401},
		{name: "cookie", host: host(idA, 5173), headers: []string{"Cookie: a=1; " + cookieName + "=" + cookieA + "; b=2"}, wantStatus: 200},
		{name: "stale and fresh cookie", host: host(idA, 5173), headers: []string{"Cookie: " + cookieName + "=" + oldCookieA, "Cookie: " + cookieName + "=" + cookieA}, wantStatus: 200},
		{name: "expired cookie", host: host(idA, 5173), headers: []string{"Cookie: " + cookieName + "=" + oldCookieA}, wantStatus: 401},
		{name: "another sandbox's cookie", host: host(idA, 5173), headers: []string{"Cookie: " + cookieName + "=" + cookieB}, wantStatus: 401},
		{name: "cookie on another port", host: host(idA, 3000), headers: []string{"Cookie: " + cookieName + "=" + cookieA}, wantStatus: 401},
		{name: "bad link but good header", host: host(idA, 5173), path: "/?" + linkParam + "=" + linkB, headers: []string{tokenHeader + ": " + tokenA}, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/"
			}
			resp, body := e.get(tt.host, path, tt.headers...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 401 && !strings.Contains(body, "--signed") {
				t.Errorf("401 page does not say how to get access: %q", body)
			}
		})
	}
	if n := int64(len(tests)); e.res.resolved.Load() != n {
		t.Errorf("resolved %d times, want %d", e.res.resolved.Load(), n)
	}
	e.res.waitDone(t, int64(len(tests)))
}

// TestLinkCookieRedirect follows a signed link like a browser: the proxy
// sets a cookie for that exact host and redirects to the same URL without
// the link; the cookie then opens the port and the upstream sees neither.
func TestLinkCookieRedirect(t *testing.T) {
	e := newEnv(t, echo)
	link := linkOf(t, e.p.SignedURL(idA, 5173, time.Hour))
	path := "/app/x%2Fy?b=2&" + linkParam + "=" + link + "&a=1&a=%20"
	resp, body := e.get(host(idA, 5173), path)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Location"), "/app/x%2Fy?b=2&a=1&a=%20"; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v, want one", cookies)
	}
	c := cookies[0]
	if c.Name != cookieName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Domain != "" || c.Path != "/" {
		t.Errorf("cookie %+v: want %s, HttpOnly, SameSite=Lax, not Secure over http, host-only, path /", c, cookieName)
	}
	if c.MaxAge < 3590 || c.MaxAge > 3601 {
		t.Errorf("cookie Max-Age %d, want about an hour (the link's)", c.MaxAge)
	}
	if e.up.conns.Load() != 0 {
		t.Error("the redirect reached the upstream")
	}

	resp, body = e.get(host(idA, 5173), resp.Header.Get("Location"),
		"Cookie: theme=dark; "+cookieName+"="+c.Value+"; z=9",
		tokenHeader+": "+tokenA)
	if resp.StatusCode != 200 {
		t.Fatalf("with the cookie: status %d: %s", resp.StatusCode, body)
	}
	s := decodeSeen(t, body)
	if s.URI != "/app/x%2Fy?b=2&a=1&a=%20" {
		t.Errorf("upstream saw URI %q", s.URI)
	}
	if got := s.Header.Values("Cookie"); len(got) != 1 || got[0] != "theme=dark; z=9" {
		t.Errorf("upstream saw cookies %q, want the app's only", got)
	}
	if s.Header.Get(tokenHeader) != "" {
		t.Error("upstream saw the access token header")
	}

	// The cookie is bound to its sandbox: sent to B (as a browser never
	// would, since the cookie is host-only) it opens nothing.
	resp, _ = e.get(host(idB, 5173), "/", "Cookie: "+cookieName+"="+c.Value)
	if resp.StatusCode != 401 {
		t.Errorf("A's cookie on B: status %d, want 401", resp.StatusCode)
	}

	// A public port with a link param: the param is dropped, nothing else.
	e.res.set("sandbox-pub11111", Route{Addr: e.up.addr(), Public: true})
	resp, body = e.get(host("sandbox-pub11111", 80), "/p?"+linkParam+"=zzz&q=1", "Cookie: "+cookieName+"=x")
	if resp.StatusCode != 200 {
		t.Fatalf("public: status %d", resp.StatusCode)
	}
	if s := decodeSeen(t, body); s.URI != "/p?q=1" || s.Header.Get("Cookie") != "" {
		t.Errorf("public: upstream saw %q with cookies %q", s.URI, s.Header.Values("Cookie"))
	}
}

// TestLinkCookieInFrame: a link opened in a frame (the dashboard's desktop)
// gets a partitioned SameSite=None cookie, which a browser keeps there.
func TestLinkCookieInFrame(t *testing.T) {
	e := newEnv(t, echo)
	link := linkOf(t, e.p.SignedURL(idA, 6901, time.Hour))
	resp, body := e.get(host(idA, 6901), "/?"+linkParam+"="+link, "Sec-Fetch-Dest: iframe")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", resp.StatusCode, body)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v, want one", cookies)
	}
	if c := cookies[0]; c.SameSite != http.SameSiteNoneMode || !c.Secure || !c.Partitioned || !c.HttpOnly {
		t.Errorf("cookie %+v: want SameSite=None, Secure, Partitioned, HttpOnly", c)
	}
}

// TestRedirectStaysOnHost checks that a path that looks like another host
// does not make the link's redirect leave the sandbox host.
func TestRedirectStaysOnHost(t *testing.T) {
	e := newEnv(t, echo)
	link := linkOf(t, e.p.SignedURL(idA, 5173, time.Hour))
	for _, target := range []string{"//evil.example/x", `/\evil.example/x`, "///evil.example"} {
		resp := rawRequest(t, e.srv.Listener.Addr().String(),
			"GET "+target+"?"+linkParam+"="+link+" HTTP/1.1\r\nHost: "+host(idA, 5173)+"\r\n\r\n")
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/") ||
			strings.HasPrefix(loc, "//") || strings.Contains(loc, `\`) {
			t.Errorf("%s: status %d Location %q: want a path on this host", target, resp.StatusCode, loc)
		}
	}
}

func linkOf(t *testing.T, signedURL string) string {
	t.Helper()
	u, err := url.Parse(signedURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(linkParam)
}
