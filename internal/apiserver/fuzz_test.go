package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// The fuzz targets of the API's input: request bodies and names. They
// drive the real handler (authentication, routing, decoding, validation,
// error mapping) over a fake manager that records what reaches it.

// fuzzCalls is what the handlers of one request passed on to the manager.
type fuzzCalls struct {
	create *sandbox.CreateOptions
	idle   *time.Duration
	execs  []agentapi.ExecRequest // Exec and Start, the computer's commands included
	port   *int
	refs   []string // the sandbox refs the calls named
	snap   string   // the snapshot a call named
	used   bool     // Use was called; the fake has no agent, so the answer is 503
}

// fuzzSandboxes is fakeSandboxes recording each call, and answering a
// desktop's computer commands the way xdotool and wmctrl would.
type fuzzSandboxes struct {
	*fakeSandboxes
	calls   fuzzCalls
	windows int // wmctrl shows one more window each time, so a launch sees it
}

func (f *fuzzSandboxes) Get(ctx context.Context, teamID, ref string) (*sandbox.Sandbox, error) {
	f.calls.refs = append(f.calls.refs, ref)
	return f.fakeSandboxes.Get(ctx, teamID, ref)
}

// Create records the options and keeps nothing, so the fake stays small
// over millions of inputs.
func (f *fuzzSandboxes) Create(_ context.Context, teamID string, o sandbox.CreateOptions) (*sandbox.Sandbox, error) {
	f.calls.create = &o
	return &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: teamID, Name: o.Name, State: sandbox.Running}, nil
}

func (f *fuzzSandboxes) SetIdleTimeout(ctx context.Context, teamID, ref string, d time.Duration) (*sandbox.Sandbox, error) {
	f.calls.idle = &d
	return f.fakeSandboxes.SetIdleTimeout(ctx, teamID, ref, d)
}

func (f *fuzzSandboxes) Expose(ctx context.Context, teamID, ref string, port int, open bool) (*sandbox.Sandbox, error) {
	f.calls.port = &port
	return f.fakeSandboxes.Expose(ctx, teamID, ref, port, open)
}

func (f *fuzzSandboxes) Open(ctx context.Context, teamID, ref string) (*sandbox.Session, error) {
	f.calls.used = true
	return f.fakeSandboxes.Open(ctx, teamID, ref)
}

func (f *fuzzSandboxes) DeleteSnapshot(ctx context.Context, teamID, ref, snap string) error {
	f.calls.snap = snap
	return f.fakeSandboxes.DeleteSnapshot(ctx, teamID, ref, snap)
}

func (f *fuzzSandboxes) Start(ctx context.Context, teamID, ref string, req agentapi.ExecRequest) (int, error) {
	f.calls.execs = append(f.calls.execs, req)
	return f.fakeSandboxes.Start(ctx, teamID, ref, req)
}

func (f *fuzzSandboxes) Exec(_ context.Context, teamID, ref string, req agentapi.ExecRequest, on func(agentapi.Event) error) error {
	f.calls.execs = append(f.calls.execs, req)
	if _, err := f.find(teamID, ref); err != nil {
		return err
	}
	var out string
	switch strings.Join(req.Cmd, " ") {
	case "xdotool getdisplaygeometry":
		out = "1920 1080\n"
	case "xdotool getmouselocation --shell":
		out = "X=10\nY=20\nSCREEN=0\nWINDOW=1\n"
	case "wmctrl -l":
		f.windows++
		out = fmt.Sprintf("0x%08x  0 host Window %d\n", f.windows, f.windows)
	}
	if out != "" {
		if err := on(agentapi.Event{Type: agentapi.EventStdout, Data: []byte(out)}); err != nil {
			return err
		}
	}
	code := 0
	return on(agentapi.Event{Type: agentapi.EventExit, ExitCode: &code})
}

// fuzzKeys is the store, recording the refs of the team and key lookups.
type fuzzKeys struct {
	*store.Store
	refs []string
}

func (k *fuzzKeys) TeamByName(ctx context.Context, ref string) (auth.Team, error) {
	k.refs = append(k.refs, ref)
	return k.Store.TeamByName(ctx, ref)
}

func (k *fuzzKeys) DeleteKey(ctx context.Context, teamID, ref string) error {
	k.refs = append(k.refs, ref)
	return k.Store.DeleteKey(ctx, teamID, ref)
}

// fuzzURLs makes dev-server URLs and records a signed link's lifetime.
type fuzzURLs struct{ ttl time.Duration }

func (u *fuzzURLs) URL(id string, port int) string {
	return fmt.Sprintf("http://%d-%s.localhost", port, id)
}
func (u *fuzzURLs) SignedURL(id string, port int, ttl time.Duration) string {
	u.ttl = ttl
	return u.URL(id, port) + "/?sig=x"
}

// fuzzServer is the API of the fuzz targets, called in-process so a panic
// in a handler fails the input.
type fuzzServer struct {
	h    http.Handler
	key  string // the admin key of team a
	sbs  *fuzzSandboxes
	keys *fuzzKeys
	urls *fuzzURLs
	mgr  *sandbox.Manager // a real manager without runtime, for what it checks before any lookup
}

const fuzzTeam = "team-a"

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := store.Open(ctx, dir+"/db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.CreateTeam(ctx, auth.Team{ID: fuzzTeam, Name: "a", CreatedAt: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	key := auth.NewKey()
	lookup, hash := auth.Hash(key)
	// Neither the key's ID nor its name is a valid key name, so that no
	// DELETE /v1/keys/{name} of FuzzNames removes it.
	if err := st.CreateKey(ctx, auth.Key{ID: "key:fuzz", TeamID: fuzzTeam, Name: "fuzz admin", Lookup: lookup, Hash: hash, Admin: true, CreatedAt: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	sbs := &fuzzSandboxes{fakeSandboxes: &fakeSandboxes{byID: map[string]*sandbox.Sandbox{
		"sandbox-mine0000": {ID: "sandbox-mine0000", TeamID: fuzzTeam, Name: "mine", State: sandbox.Running, Ports: []int{3000}},
		"sandbox-desk0000": {ID: "sandbox-desk0000", TeamID: fuzzTeam, Name: "desk", State: sandbox.Running, Desktop: true},
	}}}
	mgr, err := sandbox.NewManager(sandbox.Config{Dir: dir + "/sandboxes", AgentBinary: "/nonexistent"},
		slog.New(slog.DiscardHandler), nil, nil, nil, st)
	if err != nil {
		tb.Fatal(err)
	}
	fs := &fuzzServer{key: key, sbs: sbs, keys: &fuzzKeys{Store: st}, urls: &fuzzURLs{}, mgr: mgr}
	s := New(slog.New(slog.DiscardHandler), sbs, fs.keys, fakeTemplates{}, fs.urls)
	s.SetSSH(st, "localhost", 2222, "")
	fs.h = s.Handler()
	return fs
}

// reset forgets what the previous input recorded.
func (fs *fuzzServer) reset() {
	fs.sbs.calls, fs.keys.refs, fs.urls.ttl = fuzzCalls{}, nil, 0
}

func (fs *fuzzServer) do(t *testing.T, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	fs.reset()
	req, err := http.NewRequest(method, "http://api.test"+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+fs.key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, req)
	return rec
}

// checkErrorBody checks that an error answer is the JSON error body, with
// the code of its status.
func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var body client.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d with a body that is not the error JSON: %v: %q", rec.Code, err, rec.Body.Bytes())
	}
	kind := errdefs.FromCode(body.Error.Code)
	if kind == nil || status(kind) != rec.Code || body.Error.Message == "" {
		t.Fatalf("status %d with error code %q, message %q", rec.Code, body.Error.Code, body.Error.Message)
	}
}

// bodyRoutes are the routes that read a JSON body.
var bodyRoutes = []struct{ method, path string }{
	{"POST", "/v1/sandboxes"},
	{"PATCH", "/v1/sandboxes/mine"},
	{"POST", "/v1/sandboxes/mine/exec"},
	{"POST", "/v1/sandboxes/mine/processes"},
	{"POST", "/v1/sandboxes/mine/processes/7/signal"},
	{"POST", "/v1/sandboxes/mine/snapshots"},
	{"POST", "/v1/sandboxes/mine/rollback"},
	{"POST", "/v1/sandboxes/mine/fork"},
	{"POST", "/v1/sandboxes/mine/ports"},
	{"POST", "/v1/sandboxes/mine/links"},
	{"POST", "/v1/sandboxes/desk/computer/actions"},
	{"POST", "/v1/ssh-keys"},
	{"POST", "/v1/keys"},
	{"POST", "/v1/teams"},
}

// FuzzRequestBody sends a body to a route that decodes JSON. Whatever the
// body, the handler must not panic and must answer either 2xx or a 4xx
// error body (503 only once it asked for the fake's missing agent). An
// accepted body must be JSON, and what it asked for must reach the
// manager unchanged and within the documented bounds.
func FuzzRequestBody(f *testing.F) {
	seeds := []struct {
		route int
		body  string
	}{
		{0, `{"name":"web","template":"base","vcpus":2,"memory_mb":1024,"env":{"A":"1"},"idle_timeout":600,"ports":[4000]}`},
		{0, `{"idle_timeout":9223372036854775807}`},
		{0, `{"name":"a","name":"b"}`},
		{1, `{"idle_timeout":0,"public":true}`},
		{2, `{"cmd":["sh","-c","echo hi"],"cwd":"/root","timeout_ms":1000,"stdin":"aGk="}`},
		{3, `{"cmd":["sleep","10"],"env":{"X":"\u0000"}}`},
		{4, `{"signal":"TERM"}`},
		{5, `{"name":"before-upgrade"}`},
		{6, `{"snapshot":"before-upgrade"}`},
		{7, `{"name":"copy","snapshot":""}`},
		{8, `{"port":4000}`},
		{9, `{"port":3000,"ttl_seconds":60}`},
		{10, `{"action":"click","x":10,"y":20,"button":"left","count":2}`},
		{10, `{"action":"launch","app":"terminal","args":["-e","top"]}`},
		{10, `{"action":"key","keys":["ctrl+l","Return"],"x":1}`},
		{11, `{"name":"laptop","public_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq9sVvq0eAAfH0cd6mXyzAdD0Mv+j1p7TnU9AXoJBkD me"}`},
		{12, `{"name":"ci","team":"a","admin":false}`},
		{13, `{"name":"c"}`},
	}
	for _, s := range seeds {
		f.Add(uint8(s.route), []byte(s.body))
	}
	// Past encoding/json's nesting limit (10000), and a long name. The
	// inputs that found bugs are in testdata/fuzz/FuzzRequestBody/found-*.
	f.Add(uint8(0), []byte(strings.Repeat("[", 10_001)))
	f.Add(uint8(0), []byte(`{"name":"`+strings.Repeat("a", 64<<10)+`"}`))
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := bodyRoutes[int(route)%len(bodyRoutes)]
		rec := srv.do(t, r.method, r.path, body)
		calls := srv.sbs.calls
		checkComputerCommands(t, calls.execs)
		switch code := rec.Code; {
		case code >= 200 && code < 300:
			if len(body) > 0 && !json.Valid(body) {
				t.Fatalf("%s %s accepted a body that is not JSON: %q", r.method, r.path, body)
			}
			checkAccepted(t, srv, r.path, body)
		case code == http.StatusServiceUnavailable && calls.used:
			checkErrorBody(t, rec)
		case code >= 400 && code < 500:
			checkErrorBody(t, rec)
		default:
			t.Fatalf("%s %s %q: status %d: %s", r.method, r.path, body, code, rec.Body.Bytes())
		}
	})
}

// strict decodes body the way the handlers do.
func strict(t *testing.T, body []byte, v any) {
	t.Helper()
	if len(body) == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("the handler accepted %q, which does not decode: %v", body, err)
	}
}

// exactSeconds reports whether d is exactly n seconds, with no overflow on
// the way.
func exactSeconds(d time.Duration, n int) bool {
	return d%time.Second == 0 && int64(d/time.Second) == int64(n)
}

// The documented name rules, written out without regular expressions.
