package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkForward measures the proxy's own work for one request to a
// private port with its access token, from the request's arrival to the
// response copied out, against a trivial upstream.
func BenchmarkForward(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	b.Cleanup(up.Close)
	res := &fakeResolver{t: &testing.T{}, routes: map[string]Route{idA: {Addr: up.Listener.Addr().String(), Token: tokenA}}, errs: map[string]error{}}
	p, err := New(Config{PublicPort: 8080, ReservedPorts: []int{agentPort}, SigningKey: testKey}, res, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	h := p.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "http://"+host(idA, 3000)+"/", nil)
			req.Header.Set(tokenHeader, tokenA)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
