package apiserver

import (
	"net/http"
	"testing"
)

// TestWebSocketProtocolKey checks the key a browser sends as a WebSocket
// subprotocol is checked like the Authorization header, and only there.
func TestWebSocketProtocolKey(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, protocol string
		upgrade        bool
		want           int
	}{
		{"valid key", "runtools, bearer." + f.keyA, true, http.StatusOK},
		{"wrong key", "runtools, bearer.rt_not-a-real-key-at-all-000000", true, http.StatusUnauthorized},
		{"no key", "runtools", true, http.StatusUnauthorized},
		{"not a websocket", "runtools, bearer." + f.keyA, false, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/v1/me", nil)
		req.Header.Set("Sec-WebSocket-Protocol", tc.protocol)
		if tc.upgrade {
			req.Header.Set("Upgrade", "websocket")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

// TestDashboardNeedsNoKey: the dashboard's files are served without a key,
// and only they, only to GET and HEAD.
func TestDashboardNeedsNoKey(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/", http.StatusOK},
		{"HEAD", "/", http.StatusOK},
		{"GET", "/assets/app.js", http.StatusOK},
		{"POST", "/", http.StatusUnauthorized},
		{"GET", "/v1/sandboxes", http.StatusUnauthorized},
		{"GET", "/metrics", http.StatusUnauthorized},
		{"GET", "/assets/../v1/me", http.StatusNotFound}, // the file server, which serves no API
	} {
		if resp := f.do(t, tc.method, tc.path, "", ""); resp.StatusCode != tc.want {
			t.Errorf("%s %s without a key: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

func TestTerminalBadInput(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/terminal", "/terminal?cols=abc", "/terminal?rows=0"} {
		if resp := f.do(t, "GET", "/v1/sandboxes/"+f.sandboxA+path, f.keyA, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s (no upgrade or a bad size): %d, want 400", path, resp.StatusCode)
		}
	}
	if resp := f.do(t, "GET", "/v1/sandboxes/"+f.sandboxA+"/terminal", f.keyB, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another team's sandbox: %d, want 404", resp.StatusCode)
	}
}
