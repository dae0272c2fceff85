package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest writes raw bytes to addr and reads one response.
func rawRequest(t *testing.T, addr, raw string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

func bodyOf(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestRefusedBeforeUpstream sends requests the proxy must refuse: not one
// byte may reach the upstream, and the resolver is asked only when the host
// names a sandbox port that is not reserved.
func TestRefusedBeforeUpstream(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		wantStatus  int
		wantText    string
		wantResolve bool
	}{
		{
			name:       "reserved agent port",
			raw:        "GET / HTTP/1.1\r\nHost: " + host(idA, agentPort) + "\r\n" + tokenHeader + ": " + tokenA + "\r\n\r\n",
			wantStatus: 403, wantText: "403 Forbidden: port 49983 is reserved",
		},
		{
			name:       "reserved port, public link",
			raw:        "GET /?" + linkParam + "=x HTTP/1.1\r\nHost: 49983-" + idA + ".SANDBOXES.localhost.\r\n\r\n",
			wantStatus: 403, wantText: "reserved",
		},
		{
			name:       "bad host",
			raw:        "GET / HTTP/1.1\r\nHost: 5173-sandbox-x.sandboxes.localhost:8080\r\n\r\n",
			wantStatus: 400, wantText: "(the sandbox id is not sandbox- followed by 8 to 32 of a-z and 0-9); sandbox addresses look like http://5173-sandbox-abc123xyz890.sandboxes.localhost:8080/: {port}-{sandbox id}.sandboxes.localhost",
		},
		{
			name:       "other domain",
			raw:        "GET / HTTP/1.1\r\nHost: 5173-" + idA + ".example.com\r\n\r\n",
			wantStatus: 400, wantText: "is not a sandbox address",
		},
		{
			name:       "HTTP/1.0 without a host",
			raw:        "GET / HTTP/1.0\r\n\r\n",
			wantStatus: 400, wantText: "is not a sandbox address",
		},
		{
			name:       "the domain itself",
			raw:        "GET / HTTP/1.1\r\nHost: sandboxes.localhost:8080\r\n\r\n",
			wantStatus: 404, wantText: "http://5173-sandbox-abc123xyz890.sandboxes.localhost:8080/",
		},
		{
			name:       "duplicate Host headers",
			raw:        "GET / HTTP/1.1\r\nHost: " + host(idA, 5173) + "\r\nHost: " + host(idB, 5173) + "\r\n\r\n",
			wantStatus: 400,
		},
		{
			name:       "duplicate Host headers, same value",
			raw:        "GET / HTTP/1.1\r\nHost: " + host(idA, 5173) + "\r\nHost: " + host(idA, 5173) + "\r\n\r\n",
			wantStatus: 400,
		},
		{
			name:       "CONNECT",
			raw:        "CONNECT " + host(idA, 5173) + " HTTP/1.1\r\nHost: " + host(idA, 5173) + "\r\n\r\n",
			wantStatus: 405,
		},
		{
			name:       "no access",
			raw:        "POST /upload HTTP/1.1\r\nHost: " + host(idA, 5173) + "\r\nContent-Length: 5\r\n\r\nhello",
			wantStatus: 401, wantText: "runtools sandbox url " + idA + " 5173 --signed", wantResolve: true,
		},
		{
			name:       "wrong token",
			raw:        "GET / HTTP/1.1\r\nHost: " + host(idA, 5173) + "\r\n" + tokenHeader + ": " + tokenB + "\r\n\r\n",
			wantStatus: 401, wantText: tokenHeader, wantResolve: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, echo)
			resp := rawRequest(t, e.srv.Listener.Addr().String(), tt.raw)
			body := bodyOf(resp)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantText) {
				t.Errorf("status %d %q, want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantText)
			}
			if got := e.res.resolveCalls() > 0; got != tt.wantResolve {
				t.Errorf("resolver called: %v, want %v", got, tt.wantResolve)
			}
			e.up.assertUntouched(t)
			if tt.wantResolve {
				e.res.waitDone(t, 1)
			}
		})
	}
}

// TestReservedRouteRefused covers a resolver that routes to a reserved port:
// the proxy refuses to dial it.
func TestReservedRouteRefused(t *testing.T) {
	e := newEnv(t, echo)
	e.res.set(idA, Route{Addr: "127.0.0.1:49983", Public: true})
	resp, body := e.get(host(idA, 5173), "/")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d %q, want 502", resp.StatusCode, body)
	}
	e.res.waitDone(t, 1)
}

// TestAbsoluteForm checks absolute-form request targets. A handler that is
// given a target host different from r.Host refuses it. Go's own server
// ignores the Host header of an absolute-form request, as RFC 9112 section
// 3.2.2 requires, and routes by the target; the header never reaches the
// upstream either way.
func TestAbsoluteForm(t *testing.T) {
	e := newEnv(t, echo)

	req := httptest.NewRequest(http.MethodGet, "http://"+host(idB, 5173)+"/", nil)
	req.Host = host(idA, 5173)
	req.Header.Set(tokenHeader, tokenA)
	w := httptest.NewRecorder()
	e.p.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "Host header") {
		t.Errorf("mismatch: status %d %q, want 400", w.Code, w.Body.String())
	}
	e.up.assertUntouched(t)
	if e.res.resolveCalls() != 0 {
		t.Error("the resolver was asked")
	}

	// Through the server: the target decides, the Host header is dropped.
	resp := rawRequest(t, e.srv.Listener.Addr().String(),
		"GET http://"+host(idA, 5173)+"/abs?x=1 HTTP/1.1\r\nHost: "+host(idB, 5173)+"\r\n"+tokenHeader+": "+tokenA+"\r\n\r\n")
	body := bodyOf(resp)
	if resp.StatusCode != 200 {
		t.Fatalf("absolute form: status %d %q", resp.StatusCode, body)
	}
	s := decodeSeen(t, body)
	if s.Host != "localhost:5173" || s.URI != "/abs?x=1" || s.Header.Get("X-Forwarded-Host") != host(idA, 5173) {
		t.Errorf("upstream saw host %q URI %q forwarded host %q", s.Host, s.URI, s.Header.Get("X-Forwarded-Host"))
	}
	// B's token does not open A through the target either.
	resp = rawRequest(t, e.srv.Listener.Addr().String(),
		"GET http://"+host(idA, 5173)+"/ HTTP/1.1\r\nHost: "+host(idB, 5173)+"\r\n"+tokenHeader+": "+tokenB+"\r\n\r\n")
	if resp.StatusCode != 401 {
		t.Errorf("absolute form with B's token for A: status %d, want 401", resp.StatusCode)
	}
	e.res.waitDone(t, 2)
}
