package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// testKey is the only API key the fake server accepts.
const testKey = "rt_test_key"

// testNow is the fixed clock of the fake and of the CLI in tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fake is an in-memory runtools server that implements the routes the
// client uses, with canned behaviour good enough to drive the CLI.
type fake struct {
	mu         sync.Mutex
	sandboxes  []*client.Sandbox
	files      map[string]map[string]*fnode // sandbox ID → path → node
	procs      map[string][]*client.Process
	templates  []client.Template
	teams      []client.Team
	keys       []client.APIKey
	webhooks   []client.Webhook
	seq        int
	lastExec   client.ExecRequest
	lastAttach client.AttachRequest
	stdin      map[int]*fakeStdin // by PID, for processes started with stdin_open

	flatArchives bool // name archive entries relative to the path itself
}

// fakeStdin is what a background process's open stdin was sent.
type fakeStdin struct {
	writes [][]byte
	closed bool
}

type fnode struct {
	typ    string // file, dir, symlink
	data   []byte
	mode   uint32
	mtime  time.Time
	target string
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	t.Helper()
	f := &fake{files: map[string]map[string]*fnode{}, procs: map[string][]*client.Process{}}
	f.addSandbox(&client.Sandbox{
		ID: "sandbox-aaaa1111", Name: "my-env", Team: "acme", Template: "base", State: client.StateRunning,
		VCPUs: 2, MemoryMB: 1024, DiskMB: 2048, IP: "10.11.0.2",
		Env: map[string]string{"NODE_ENV": "test", "DEBUG": "1"}, Metadata: map[string]string{"owner": "alice"},
		Labels: map[string]string{"app": "web", "env": "staging"}, TimeoutAt: ptr(testNow.Add(25 * time.Minute)), OnTimeout: "pause",
		CreatedAt: testNow.Add(-3 * time.Minute),
	})
	f.addSandbox(&client.Sandbox{
		ID: "sandbox-bbbb2222", Team: "acme", Template: "desktop", State: client.StatePaused,
		VCPUs: 4, MemoryMB: 4096, DiskMB: 2048, IP: "10.11.0.3", CreatedAt: testNow.Add(-26 * time.Hour),
		Labels: map[string]string{"app": "desk"}, PausedTTLAt: ptr(testNow.Add(46 * time.Hour)),
	})
	exited := 2
	f.procs["sandbox-aaaa1111"] = []*client.Process{
		{PID: 100, Cmd: []string{"python3", "-m", "http.server", "8000"}, StartedAt: testNow.Add(-5 * time.Minute), Running: true},
		{PID: 101, Cmd: []string{"sh", "-c", "make build > /tmp/build.log"}, StartedAt: testNow.Add(-2 * time.Hour), ExitCode: &exited},
		{PID: 102, Cmd: []string{"python3", "-u", "-i"}, StartedAt: testNow.Add(-time.Minute), Running: true, StdinOpen: true},
	}
	f.stdin = map[int]*fakeStdin{102: {}}
	f.templates = []client.Template{
		{Name: "base", Aliases: []string{"base-ubuntu"}, Description: "Debian 12 with Node.js, Python 3, git, curl", Status: "ready", SizeBytes: 612 << 20, BuiltAt: testNow.Add(-50 * time.Hour),
			Packages: map[string]string{"python3": "3.11.2-1+b1", "git": "1:2.39.5-0+deb12u2", "npm:node": "22.21.1"}, Tracked: []string{"npm:node", "python3"}},
		{Name: "desktop", Description: "XFCE desktop in the browser", Status: "building"},
		{Name: "broken", Description: "for tests", Status: "failed", Error: "mmdebstrap exited 1"},
	}
	f.teams = []client.Team{{ID: "team-1", Name: "acme", CreatedAt: testNow.Add(-240 * time.Hour)}}
	f.webhooks = []client.Webhook{{ID: "wh_0", URL: "https://ci.example.com/hooks", Events: []string{"created", "destroyed"}, CreatedAt: testNow.Add(-2 * time.Hour)}}
	f.keys = []client.APIKey{
		{ID: "key-1", Name: "admin", Team: "acme", Admin: true, CreatedAt: testNow.Add(-240 * time.Hour)},
		{ID: "key-2", Name: "ci", Team: "acme", CreatedAt: testNow.Add(-2 * time.Hour)},
	}
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fake) addSandbox(sb *client.Sandbox) {
	f.sandboxes = append([]*client.Sandbox{sb}, f.sandboxes...)
	m := testNow.Add(-time.Hour)
	f.files[sb.ID] = map[string]*fnode{
		"/":                  {typ: "dir", mode: 0o755, mtime: m},
		"/root":              {typ: "dir", mode: 0o700, mtime: m},
		"/root/hello.txt":    {typ: "file", data: []byte("hello\n"), mode: 0o644, mtime: m},
		"/root/bin":          {typ: "dir", mode: 0o755, mtime: m},
		"/root/bin/run.sh":   {typ: "file", data: []byte("#!/bin/sh\necho run\n"), mode: 0o755, mtime: m},
		"/root/link":         {typ: "symlink", target: "hello.txt", mode: 0o777, mtime: m},
		"/root/bin/data.bin": {typ: "file", data: make([]byte, 1500), mode: 0o600, mtime: m},
		"/tmp":               {typ: "dir", mode: 0o777, mtime: m},
	}
}

type apiErr struct {
	status int
	code   string
	msg    string
}

func (e *apiErr) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &apiErr{http.StatusNotFound, "not_found", fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &apiErr{http.StatusBadRequest, "invalid_argument", fmt.Sprintf(format, args...)}
}

func (f *fake) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+testKey {
				writeAPIErr(w, &apiErr{http.StatusUnauthorized, "unauthenticated", "invalid API key"})
				return
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if err := h(w, r); err != nil {
				writeAPIErr(w, err)
			}
		})
	}
	route("GET /v1/me", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, client.Identity{Team: "acme", Key: "admin", Admin: true})
	})
	route("POST /v1/sandboxes", f.create)
	route("GET /v1/sandboxes", func(w http.ResponseWriter, r *http.Request) error {
		list := []*client.Sandbox{}
	sandboxes:
		for _, sb := range f.sandboxes {
			for _, kv := range r.URL.Query()["label"] {
				k, v, _ := strings.Cut(kv, "=")
				if got, ok := sb.Labels[k]; !ok || got != v {
					continue sandboxes
				}
			}
			list = append(list, sb)
		}
		return reply(w, map[string]any{"sandboxes": list})
	})
	route("GET /v1/sandboxes/{ref}", func(w http.ResponseWriter, r *http.Request) error {
		sb, err := f.sandbox(r)
		if err != nil {
			return err
		}
		return reply(w, sb)
	})
	route("DELETE /v1/sandboxes/{ref}", func(w http.ResponseWriter, r *http.Request) error {
		sb, err := f.sandbox(r)
		if err != nil {
			return err
		}
		for i, s := range f.sandboxes {
			if s == sb {
				f.sandboxes = append(f.sandboxes[:i], f.sandboxes[i+1:]...)
			}
		}
		return reply(w, sb)
	})
	route("POST /v1/sandboxes/{ref}/exec", f.exec)
	// Without route's lock: the session lasts.
	mux.HandleFunc("GET /v1/sandboxes/{ref}/exec/attach", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			writeAPIErr(w, &apiErr{http.StatusUnauthorized, "unauthenticated", "invalid API key"})
			return
		}
		f.attach(w, r)
	})
	route("POST /v1/sandboxes/{ref}/processes", f.start)
	route("GET /v1/sandboxes/{ref}/processes", func(w http.ResponseWriter, r *http.Request) error {
		sb, err := f.sandbox(r)
		if err != nil {
			return err
		}
		return reply(w, map[string]any{"processes": f.procs[sb.ID]})
	})
	route("GET /v1/sandboxes/{ref}/processes/{pid}/output", f.output)
	route("POST /v1/sandboxes/{ref}/processes/{pid}/signal", f.signal)
	route("POST /v1/sandboxes/{ref}/processes/{pid}/stdin", f.writeStdin)
	route("GET /v1/sandboxes/{ref}/files", f.readFile)
	route("PUT /v1/sandboxes/{ref}/files", f.writeFile)
	route("GET /v1/sandboxes/{ref}/files/stat", f.stat)
	route("GET /v1/sandboxes/{ref}/files/list", f.list)
	route("GET /v1/sandboxes/{ref}/files/archive", f.download)
	route("PUT /v1/sandboxes/{ref}/files/archive", f.upload)
	route("GET /v1/templates", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, map[string]any{"templates": f.templates})
	})
	route("GET /v1/templates/{name}", func(w http.ResponseWriter, r *http.Request) error {
		for _, t := range f.templates {
			if t.Name == r.PathValue("name") || slices.Contains(t.Aliases, r.PathValue("name")) {
				return reply(w, t)
			}
		}
		return notFound("unknown template %q", r.PathValue("name"))
	})
	route("POST /v1/templates/{name}/build", f.build)
	route("GET /v1/teams", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, map[string]any{"teams": f.teams})
	})
	route("POST /v1/teams", func(w http.ResponseWriter, r *http.Request) error {
		var in struct{ Name string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return invalid("bad JSON: %v", err)
		}
		t := client.Team{ID: fmt.Sprintf("team-%d", len(f.teams)+1), Name: in.Name, CreatedAt: testNow}
		f.teams = append(f.teams, t)
		return reply(w, t)
	})
	route("GET /v1/keys", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, map[string]any{"keys": f.keys})
	})
	route("POST /v1/keys", func(w http.ResponseWriter, r *http.Request) error {
		var in client.CreateKeyRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return invalid("bad JSON: %v", err)
		}
		k := client.APIKey{ID: fmt.Sprintf("key-%d", len(f.keys)+1), Name: in.Name, Team: orDefault(in.Team, "acme"), Admin: in.Admin, CreatedAt: testNow}
		f.keys = append(f.keys, k)
		k.Secret = "rt_secret_0123456789"
		return reply(w, k)
	})
	route("DELETE /v1/keys/{ref}", func(w http.ResponseWriter, r *http.Request) error {
		ref := r.PathValue("ref")
		for i, k := range f.keys {
			if k.ID == ref || k.Name == ref {
				f.keys = append(f.keys[:i], f.keys[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
		}
		return notFound("no API key %q", ref)
	})
	f.webhookRoutes(route)
	return mux
}

func reply(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

func writeAPIErr(w http.ResponseWriter, err error) {
	var e *apiErr
	if !errors.As(err, &e) {
		e = &apiErr{http.StatusInternalServerError, "internal", err.Error()}
	}
	var body client.ErrorBody
	body.Error.Code, body.Error.Message = e.code, e.msg
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

func (f *fake) sandbox(r *http.Request) (*client.Sandbox, error) {
	ref := r.PathValue("ref")
	for _, sb := range f.sandboxes {
		if sb.ID == ref || (sb.Name != "" && sb.Name == ref) {
			return sb, nil
		}
	}
	return nil, notFound("sandbox %q not found", ref)
}

func (f *fake) create(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return invalid("bad JSON: %v", err)
	}
	for _, sb := range f.sandboxes {
		if req.Name != "" && sb.Name == req.Name {
			return &apiErr{http.StatusConflict, "already_exists", fmt.Sprintf("sandbox name %q is taken", req.Name)}
		}
	}
	tpl := orDefault(req.Template, "base")
	if tpl != "base" && tpl != "desktop" {
		return notFound("no template %q: available: base, desktop", tpl)
	}
	f.seq++
	sb := &client.Sandbox{
		ID: fmt.Sprintf("sandbox-test%04d", f.seq), Name: req.Name, Team: "acme", Template: tpl, State: client.StateRunning,
		VCPUs: max(req.VCPUs, 2), MemoryMB: max(req.MemoryMB, 1024), DiskMB: 2048, IP: "10.11.0.9",
		Env: req.Env, Metadata: req.Metadata, Labels: req.Labels, CreatedAt: testNow,
	}
	if req.Timeout > 0 {
		sb.TimeoutAt, sb.OnTimeout = ptr(testNow.Add(time.Duration(req.Timeout)*time.Second)), orDefault(req.OnTimeout, "destroy")
	}
	f.addSandbox(sb)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(sb)
}

func (f *fake) build(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	switch name {
	case "base":
		progressLines(w,
			client.TemplateProgress{Template: name, Step: "fetching packages", ElapsedMS: 400},
			client.TemplateProgress{Template: name, Step: "installing", Detail: "Node.js 22 ...", ElapsedMS: 72_300},
			client.TemplateProgress{Template: name, Step: "done", ElapsedMS: 95_000, Done: true},
		)
	case "broken":
		progressLines(w,
			client.TemplateProgress{Template: name, Step: "fetching packages", ElapsedMS: 1000},
			client.TemplateProgress{Template: name, Error: "mmdebstrap exited 1: no space left on device", ElapsedMS: 2000, Done: true},
		)
	default:
		return notFound("no template %q", name)
	}
	return nil
}

func progressLines(w http.ResponseWriter, lines ...client.TemplateProgress) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, l := range lines {
		data, _ := json.Marshal(l)
		_, _ = w.Write(append(data, '\n'))
	}
}

func ptr[T any](v T) *T { return &v }
