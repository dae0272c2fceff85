package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServesTheBundle(t *testing.T) {
	h := Handler()
	for path, want := range map[string]string{
		"/":               "text/html",
		"/assets/app.js":  "text/javascript",
		"/assets/app.css": "text/css",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), want) {
			t.Errorf("GET %s: %d %q, want 200 %s", path, rec.Code, rec.Header().Get("Content-Type"), want)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", path)
		}
		if !Owns(path) {
			t.Errorf("Owns(%q) = false", path)
		}
	}
	for _, path := range []string{"/v1/me", "/metrics", "/no/such/page"} {
		if Owns(path) {
			t.Errorf("Owns(%q) = true", path)
		}
	}
}
