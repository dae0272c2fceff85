package apiserver

import (
	"context"
	"net/http"
	"testing"

	"github.com/runtools/runtools/internal/sandbox"
)

// TestVNCBadInput: the desktop's WebSocket answers a sandbox with no
// desktop with 409 and a request that does not upgrade with 400, before
// waking anything.
func TestVNCBadInput(t *testing.T) {
	f := newFixture(t)
	desk, _ := f.sandboxes.Create(context.Background(), "team-a", sandbox.CreateOptions{Name: "desk", Template: "desktop"})
	for _, tc := range []struct {
		name, ref, key string
		want           int
	}{
		{"no desktop", f.sandboxA, f.keyA, http.StatusConflict},
		{"no upgrade", desk.ID, f.keyA, http.StatusBadRequest},
		{"another team's", desk.ID, f.keyB, http.StatusNotFound},
	} {
		if resp := f.do(t, "GET", "/v1/sandboxes/"+tc.ref+"/vnc", tc.key, ""); resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}
