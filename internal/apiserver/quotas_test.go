package apiserver

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/quota"
)

// A quota on what runs answers 429, one on what is stored 403, both with
// the code resource_exhausted and the quota in the body.
func TestQuotaErrors(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range []struct {
		err    error
		status int
		name   string
	}{
		{quota.CheckStart("acme", quota.Limits{Sandboxes: 2}, quota.Usage{Sandboxes: 2}, 1, 128), http.StatusTooManyRequests, quota.Sandboxes},
		{quota.CheckBuild("acme", quota.Limits{Builds: 1}, quota.Usage{Builds: 1}), http.StatusTooManyRequests, quota.Builds},
		{quota.CheckDisk("acme", quota.Limits{DiskBytes: 1 << 30}, quota.Usage{Disk: quota.Disk{Snapshots: 2 << 30}}), http.StatusForbidden, quota.DiskBytes},
	} {
		w := httptest.NewRecorder()
		s.writeError(w, httptest.NewRequest("POST", "/v1/sandboxes", nil), fmt.Errorf("creating: %w", c.err))
		var body client.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		q := body.Error.Quota
		if w.Code != c.status || body.Error.Code != "resource_exhausted" || q == nil || q.Name != c.name || q.Limit == 0 || q.Hint == "" {
			t.Errorf("%v: %d %s", c.err, w.Code, w.Body)
		}
	}
}
