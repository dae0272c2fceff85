package apiserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

func TestMetricsNeedAnAdminKey(t *testing.T) {
	f := newFixture(t) // serves no metrics
	for _, tc := range []struct {
		name, key string
		want      int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"a wrong key", "rt_not-a-real-key-at-all-000000", http.StatusUnauthorized},
		{"a plain key", f.keyB, http.StatusForbidden},
		{"an admin key, metrics off", f.keyA, http.StatusNotFound},
	} {
		if resp := f.do(t, "GET", "/metrics", tc.key, ""); resp.StatusCode != tc.want {
			t.Errorf("GET /metrics with %s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

func TestMetricsServed(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys := map[bool]string{}
	for _, admin := range []bool{true, false} {
		tm := auth.Team{ID: "team-" + auth.Random(6), Name: auth.Random(6), CreatedAt: time.Now()}
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		key := auth.NewKey()
		lookup, hash := auth.Hash(key)
		if err := st.CreateKey(ctx, auth.Key{ID: "key-" + tm.ID, TeamID: tm.ID, Name: "k", Lookup: lookup, Hash: hash, Admin: admin, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		keys[admin] = key
	}
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), &fakeSandboxes{byID: map[string]*sandbox.Sandbox{}}, st, fakeTemplates{}, nil)
	s.SetMetrics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, "runtools_sandboxes{state=\"running\"} 1\n")
	}))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	get := func(key string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(keys[true]); code != http.StatusOK || !strings.Contains(body, "runtools_sandboxes") {
		t.Errorf("admin: %d %q", code, body)
	}
	if code, body := get(keys[false]); code != http.StatusForbidden || strings.Contains(body, "runtools_") {
		t.Errorf("plain key: %d %q", code, body)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("no key: %d", code)
	}
}
