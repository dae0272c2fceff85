package apiserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/dashboard"
	"github.com/runtools/runtools/internal/egress"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/template"
	"github.com/runtools/runtools/internal/webhook"
)

// fakeSandboxes keeps sandboxes in memory, per team, like the real manager.
type fakeSandboxes struct {
	byID    map[string]*sandbox.Sandbox
	vncDown atomic.Bool         // desktops are still starting
	agent   *agentclient.Client // what Use hands out; nil: Use fails
	busy    atomic.Int32        // Use calls not done yet
}

func (f *fakeSandboxes) find(teamID, ref string) (*sandbox.Sandbox, error) {
	for _, sb := range f.byID {
		if sb.TeamID == teamID && (sb.ID == ref || sb.Name == ref) {
			return sb, nil
		}
	}
	return nil, fmt.Errorf("%w: no sandbox %q", errdefs.ErrNotFound, ref)
}

func (f *fakeSandboxes) Create(_ context.Context, teamID string, o sandbox.CreateOptions) (*sandbox.Sandbox, error) {
	sb := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: teamID, Name: o.Name, State: sandbox.Running, Desktop: o.Template == "desktop", Labels: o.Labels}
	f.byID[sb.ID] = sb
	return sb, nil
}
func (f *fakeSandboxes) Get(_ context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) ListFiltered(_ context.Context, teamID string, _ bool, labels map[string]string) ([]*sandbox.Sandbox, error) {
	var out []*sandbox.Sandbox
	for _, sb := range f.byID {
		if sb.TeamID == teamID && sandbox.MatchLabels(sb.Labels, labels) {
			out = append(out, sb)
		}
	}
	return out, nil
}
func (f *fakeSandboxes) Destroy(_ context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) Exec(_ context.Context, teamID, ref string, _ agentapi.ExecRequest, on func(agentapi.Event) error) error {
	if _, err := f.find(teamID, ref); err != nil {
		return err
	}
	code := 0
	return on(agentapi.Event{Type: agentapi.EventExit, ExitCode: &code})
}
func (f *fakeSandboxes) Start(ctx context.Context, teamID, ref string, req agentapi.ExecRequest) (int, error) {
	if _, err := f.find(teamID, ref); err != nil {
		return 0, err
	}
	if f.agent != nil {
		return f.agent.Start(ctx, req)
	}
	return 1, nil
}
func (f *fakeSandboxes) Open(_ context.Context, teamID, ref string) (*sandbox.Session, error) {
	sb, err := f.find(teamID, ref)
	if err != nil {
		return nil, err
	}
	if f.agent == nil {
		return nil, fmt.Errorf("%w: fake has no agent", errdefs.ErrUnavailable)
	}
	f.busy.Add(1)
	return sandbox.NewSession(sb, f.agent, func() { f.busy.Add(-1) }), nil
}
func (f *fakeSandboxes) Pause(_ context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) Resume(_ context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) Stop(_ context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) Boot(_ context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) SetAutoStart(_ context.Context, teamID, ref string, _ bool) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) SetIdleTimeout(_ context.Context, teamID, ref string, _ time.Duration) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) SetTimeout(_ context.Context, teamID, ref string, d time.Duration, on string) (*sandbox.Sandbox, error) {
	sb, err := f.find(teamID, ref)
	if err == nil {
		sb.TimeoutAt, sb.OnTimeout = time.Now().Add(d), on
	}
	return sb, err
}
func (f *fakeSandboxes) SetLabels(_ context.Context, teamID, ref string, set map[string]string, remove []string) (*sandbox.Sandbox, error) {
	sb, err := f.find(teamID, ref)
	if err != nil {
		return nil, err
	}
	if sb.Labels == nil {
		sb.Labels = map[string]string{}
	}
	maps.Copy(sb.Labels, set)
	for _, k := range remove {
		delete(sb.Labels, k)
	}
	return sb, nil
}
func (f *fakeSandboxes) PausedTTLAt(*sandbox.Sandbox) time.Time { return time.Time{} }
func (f *fakeSandboxes) TakeSnapshot(_ context.Context, teamID, ref, name string, pin bool) (*sandbox.Snapshot, error) {
	sb, err := f.find(teamID, ref)
	if err != nil {
		return nil, err
	}
	return &sandbox.Snapshot{ID: "snap-x", SandboxID: sb.ID, Name: name, Pinned: pin}, nil
}
func (f *fakeSandboxes) Snapshots(_ context.Context, teamID, ref string) ([]*sandbox.Snapshot, error) {
	_, err := f.find(teamID, ref)
	return nil, err
}
func (f *fakeSandboxes) DeleteSnapshot(_ context.Context, teamID, ref, _ string) error {
	_, err := f.find(teamID, ref)
	return err
}
func (f *fakeSandboxes) Rollback(_ context.Context, teamID, ref, _ string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) Fork(_ context.Context, teamID, ref, _, _ string) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) Expose(_ context.Context, teamID, ref string, _ int, _ bool) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) SetPublic(_ context.Context, teamID, ref string, _ bool) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) SetEgress(_ context.Context, teamID, ref string, _ egress.Policy) (*sandbox.Sandbox, error) {
	return f.find(teamID, ref)
}
func (f *fakeSandboxes) VNCReady(string) bool    { return !f.vncDown.Load() }
func (f *fakeSandboxes) setVNC(up bool)          { f.vncDown.Store(!up) }
func (f *fakeSandboxes) LastLimit(string) string { return "" }
func (f *fakeSandboxes) EventsSince(_ context.Context, teamID, ref string, _ int64) ([]sandbox.Event, <-chan struct{}, error) {
	if ref != "" {
		if _, err := f.find(teamID, ref); err != nil {
			return nil, nil, err
		}
	}
	return nil, make(chan struct{}), nil
}
func (f *fakeSandboxes) LastEventSeq(context.Context) (int64, error) { return 0, nil }
func (f *fakeSandboxes) Usage(_ context.Context, teamID, ref string) (*sandbox.Sandbox, sandbox.Usage, error) {
	sb, err := f.find(teamID, ref)
	return sb, sandbox.Usage{}, err
}
func (f *fakeSandboxes) TeamUsage(_ context.Context, teamID string) (map[string]sandbox.Usage, error) {
	out := map[string]sandbox.Usage{}
	for _, sb := range f.byID {
		if sb.TeamID == teamID && sb.State == sandbox.Running {
			out[sb.ID] = sandbox.Usage{At: time.Now(), VCPUs: 1, MemBytes: 64 << 20, MemLimit: 256 << 20}
		}
	}
	return out, nil
}
func (f *fakeSandboxes) Events(_ context.Context, teamID, ref string) ([]sandbox.Event, error) {
	_, err := f.find(teamID, ref)
	return nil, err
}

type fakeTemplates struct{}

func (fakeTemplates) List(context.Context) ([]template.Info, error) { return nil, nil }
func (fakeTemplates) Get(_ context.Context, name string) (template.Info, error) {
	if name != "base" {
		return template.Info{}, fmt.Errorf("unknown template %q: %w", name, errdefs.ErrNotFound)
	}
	return template.Info{Name: "base", Status: template.StatusReady,
		Packages: map[string]string{"npm:node": "22.21.1", "python3": "3.11.2-1+b1"}, Tracked: []string{"npm:node"}}, nil
}
func (fakeTemplates) Build(context.Context, string, func(template.Progress)) (template.Info, error) {
	return template.Info{}, nil
}

type fixture struct {
	srv        *httptest.Server
	keyA, keyB string // admin key of team a; plain key of team b
	sandboxA   string // a sandbox of team a
	sandboxes  *fakeSandboxes
	volumeA    string // the ID of volume "data" of team a
	volumes    *fakeVolumes
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir()+"/db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{}
	for i, team := range []string{"a", "b"} {
		tm := auth.Team{ID: "team-" + team, Name: team, CreatedAt: time.Now()}
		if err := st.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
		key := auth.NewKey()
		lookup, hash := auth.Hash(key)
		if err := st.CreateKey(ctx, auth.Key{ID: "key-" + team, TeamID: tm.ID, Name: "k", Lookup: lookup, Hash: hash, Admin: i == 0, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.keyA = key
		} else {
			f.keyB = key
		}
	}
	sbs := &fakeSandboxes{byID: map[string]*sandbox.Sandbox{}}
	sb, _ := sbs.Create(ctx, "team-a", sandbox.CreateOptions{Name: "mine"})
	f.sandboxA = sb.ID
	f.sandboxes = sbs
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), sbs, st, fakeTemplates{}, nil)
	s.SetDashboard(dashboard.Handler(), dashboard.Owns)
	s.SetWebhooks(st, webhook.Guard{AllowPrivate: true})
	s.SetSSH(st, "localhost", 2222, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq9sVvq0eAAfH0cd6mXyzAdD0Mv+j1p7TnU9AXoJBkD")
	f.volumes = &fakeVolumes{st: st, dir: t.TempDir()}
	v, err := f.volumes.CreateVolume(ctx, "team-a", "data", 64)
	if err != nil {
		t.Fatal(err)
	}
	f.volumeA = v.ID
	s.SetVolumes(f.volumes)
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, key, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "text/event-stream" { // a stream would never end
		io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	return resp
}

// concrete fills a route pattern's wildcards.
func concrete(pattern, ref string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{ref}", ref, "{pid}", "1", "{name}", "base", "{snap}", "s1", "{port}", "3000").Replace(path)
	return method, path + "?path=/etc/hostname"
}

func TestEveryRouteNeedsAKey(t *testing.T) {
	f := newFixture(t)
	s := &Server{}
	for _, r := range s.routes() {
		method, path := concrete(r.pattern, f.sandboxA)
		for name, key := range map[string]string{"missing": "", "wrong": "rt_not-a-real-key-at-all-000000", "malformed": "x"} {
			resp := f.do(t, method, path, key, "{}")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %s key: status %d, want 401", method, path, name, resp.StatusCode)
			}
		}
	}
	if resp := f.do(t, "GET", "/no/such/route", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown route without key: %d, want 401", resp.StatusCode)
	}
}

func TestForeignTeamSeesNothing(t *testing.T) {
	f := newFixture(t)
	s := &Server{}
	for _, r := range s.routes() {
		if !strings.Contains(r.pattern, "{ref}") || strings.Contains(r.pattern, "/v1/keys/") || strings.Contains(r.pattern, "/v1/ssh-keys/") {
			continue
		}
		ref := f.sandboxA
		if strings.Contains(r.pattern, "/v1/volumes/") {
			ref = f.volumeA
		}
		method, path := concrete(r.pattern, ref)
		body := `{"cmd":["true"]}`
		switch {
		case strings.HasSuffix(r.pattern, "/signal"):
			body = `{"signal":"TERM"}`
		case strings.HasPrefix(r.pattern, "PATCH"):
			body = `{"idle_timeout":60}`
		case strings.HasSuffix(r.pattern, "/snapshots"), strings.HasSuffix(r.pattern, "/fork"):
			body = `{"name":"x"}`
		case strings.HasSuffix(r.pattern, "/rollback"):
			body = `{"snapshot":"x"}`
		case strings.HasSuffix(r.pattern, "/egress"):
			body = `{"default":"deny"}`
		case strings.HasSuffix(r.pattern, "/ports"), strings.HasSuffix(r.pattern, "/links"):
			body = `{"port":3000}`
		}
		resp := f.do(t, method, path, f.keyB, body)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("team b: %s %s: status %d, want 404", method, path, resp.StatusCode)
		}
		// The owner gets past the lookup.
		if resp := f.do(t, method, path, f.keyA, body); resp.StatusCode == http.StatusNotFound {
			t.Errorf("team a: %s %s: 404, want the sandbox found", method, path)
		}
	}
}

func TestAdminOnlyRoutes(t *testing.T) {
	f := newFixture(t)
	if resp := f.do(t, "POST", "/v1/teams", f.keyB, `{"name":"c"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin create team: %d, want 403", resp.StatusCode)
	}
	if resp := f.do(t, "POST", "/v1/keys", f.keyB, `{"name":"x","team":"a"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin key for another team: %d, want 403", resp.StatusCode)
	}
	if resp := f.do(t, "POST", "/v1/keys", f.keyB, `{"name":"x","admin":true}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin admin key: %d, want 403", resp.StatusCode)
	}
	if resp := f.do(t, "POST", "/v1/teams", f.keyA, `{"name":"c"}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("admin create team: %d, want 201", resp.StatusCode)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/v1/sandboxes", `{"nmae":"x"}`, 400},
		{"POST", "/v1/sandboxes", `not json`, 400},
		{"POST", "/v1/sandboxes", ``, 400},
		{"POST", "/v1/sandboxes", `{} {}`, 400},
		{"POST", "/v1/sandboxes", `null`, 400},
		{"POST", "/v1/sandboxes", `[]`, 400},
		{"POST", "/v1/sandboxes", `5`, 400},
		{"GET", "/v1/sandboxes/mine/watch?metrics=maybe", ``, 400},
		{"GET", "/v1/watch?metrics=maybe", ``, 400},
		{"POST", "/v1/sandboxes/mine/exec", `{"cmd":[]}`, 400},
		{"POST", "/v1/sandboxes/mine/exec", `{"cmd":["ls"],"timeout_ms":-1}`, 400},
		{"POST", "/v1/sandboxes/mine/exec", `{"cmd":["ls"],"cwd":"relative"}`, 400},
		{"POST", "/v1/sandboxes/mine/exec", `{"cmd":["echo","` + strings.Repeat("x", 200<<10) + `"]}`, 400},
		{"POST", "/v1/sandboxes/mine/exec", `{"cmd":["echo"` + strings.Repeat(`,"`+strings.Repeat("x", 100<<10)+`"`, 30) + `]}`, 400},
		{"GET", "/v1/sandboxes?all=maybe", ``, 400},
		{"GET", "/v1/sandboxes/mine/files", ``, 400},
		{"GET", "/v1/sandboxes/mine/files?path=relative", ``, 400},
		{"POST", "/v1/sandboxes/mine/processes/abc/signal", `{"signal":"TERM"}`, 400},
		{"GET", "/v1/sandboxes/nope", ``, 404},
		{"POST", "/v1/keys", `{"name":"bad name!"}`, 400},
		{"POST", "/v1/ssh-keys", `{"name":"laptop","public_key":"not a key"}`, 400},
	} {
		resp := f.do(t, tc.method, tc.path, f.keyA, tc.body)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %q: status %d, want %d", tc.method, tc.path, tc.body, resp.StatusCode, tc.want)
		}
	}
}

var methodLine = regexp.MustCompile(`^    (get|post|put|patch|delete):$`)
