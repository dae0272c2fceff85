package cli

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

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
		CreatedAt: testNow.Add(-3 * time.Minute),
	})
	f.addSandbox(&client.Sandbox{
		ID: "sandbox-bbbb2222", Team: "acme", Template: "desktop", State: client.StatePaused,
		VCPUs: 4, MemoryMB: 4096, DiskMB: 2048, IP: "10.11.0.3", CreatedAt: testNow.Add(-26 * time.Hour),
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
		return reply(w, map[string]any{"sandboxes": f.sandboxes})
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
		Env: req.Env, Metadata: req.Metadata, CreatedAt: testNow,
	}
	f.addSandbox(sb)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(sb)
}

// events writes NDJSON events, flushing each.
func events(w http.ResponseWriter, evs ...client.Event) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, ev := range evs {
		data, _ := json.Marshal(ev)
		_, _ = w.Write(append(data, '\n'))
		w.(http.Flusher).Flush()
	}
}

func exitEvent(code int, timedOut bool) client.Event {
	return client.Event{Type: client.EventExit, ExitCode: &code, TimedOut: timedOut}
}

func (f *fake) exec(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.sandbox(r); err != nil {
		return err
	}
	var req client.ExecRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return invalid("bad JSON: %v", err)
	}
	f.lastExec = req
	start := client.Event{Type: client.EventStart, PID: 7}
	out := func(s string) client.Event { return client.Event{Type: client.EventStdout, Data: []byte(s)} }
	errOut := func(s string) client.Event { return client.Event{Type: client.EventStderr, Data: []byte(s)} }
	args := req.Cmd[1:]
	switch cmd := req.Cmd[0]; {
	case cmd == "echo":
		events(w, start, out(strings.Join(args, " ")+"\n"), exitEvent(0, false))
	case cmd == "exit":
		code, _ := strconv.Atoi(args[0])
		events(w, start, errOut("exiting\n"), exitEvent(code, false))
	case cmd == "cat":
		events(w, start, out(string(req.Stdin)), exitEvent(0, false))
	case cmd == "both":
		events(w, start, out("out 1\n"), errOut("err 1\n"), out("out 2\n"), exitEvent(0, false))
	case cmd == "sleep":
		events(w, start, out("sleeping\n"), exitEvent(124, true))
	case cmd == "lost":
		events(w, start, out("partial\n"), client.Event{Type: client.EventError, Message: "lost the connection to the sandbox agent"})
	case cmd == "nope" || strings.Contains(cmd, " "):
		events(w, client.Event{Type: client.EventError, Message: fmt.Sprintf("exec: %q: executable file not found in $PATH", cmd)}, exitEvent(127, false))
	default:
		events(w, start, out("ran "+quoteArgs(req.Cmd)+"\n"), exitEvent(0, false))
	}
	return nil
}

func (f *fake) start(w http.ResponseWriter, r *http.Request) error {
	sb, err := f.sandbox(r)
	if err != nil {
		return err
	}
	var req client.ExecRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return invalid("bad JSON: %v", err)
	}
	f.lastExec = req
	pid := 200 + len(f.procs[sb.ID])
	f.procs[sb.ID] = append(f.procs[sb.ID], &client.Process{PID: pid, Cmd: req.Cmd, StartedAt: testNow.Add(-5 * time.Minute), Running: true, StdinOpen: req.StdinOpen})
	if req.StdinOpen {
		if f.stdin == nil {
			f.stdin = map[int]*fakeStdin{}
		}
		f.stdin[pid] = &fakeStdin{}
	}
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(map[string]int{"pid": pid})
}

func (f *fake) process(r *http.Request) (*client.Process, error) {
	sb, err := f.sandbox(r)
	if err != nil {
		return nil, err
	}
	pid, _ := strconv.Atoi(r.PathValue("pid"))
	for _, p := range f.procs[sb.ID] {
		if p.PID == pid {
			return p, nil
		}
	}
	return nil, notFound("no process %d", pid)
}

func (f *fake) output(w http.ResponseWriter, r *http.Request) error {
	p, err := f.process(r)
	if err != nil {
		return err
	}
	evs := []client.Event{
		{Type: client.EventStdout, Data: []byte("serving on :8000\n")},
		{Type: client.EventStderr, Data: []byte("GET / 200\n")},
	}
	if r.URL.Query().Get("follow") == "true" || !p.Running {
		code := 0
		if p.ExitCode != nil {
			code = *p.ExitCode
		}
		evs = append(evs, exitEvent(code, false))
	}
	events(w, evs...)
	return nil
}

func (f *fake) signal(w http.ResponseWriter, r *http.Request) error {
	p, err := f.process(r)
	if err != nil {
		return err
	}
	var in struct{ Signal string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return invalid("bad JSON: %v", err)
	}
	if in.Signal != "TERM" && in.Signal != "KILL" && in.Signal != "9" {
		return invalid("unknown signal %q", in.Signal)
	}
	code := 143
	p.Running, p.ExitCode, p.StdinOpen = false, &code, false
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (f *fake) writeStdin(w http.ResponseWriter, r *http.Request) error {
	p, err := f.process(r)
	if err != nil {
		return err
	}
	in := f.stdin[p.PID]
	if in == nil || in.closed {
		return &apiErr{http.StatusConflict, "conflict", fmt.Sprintf("process %d has no open stdin: start it with stdin_open", p.PID)}
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		in.writes = append(in.writes, data)
	}
	in.closed = r.URL.Query().Get("eof") == "true"
	p.StdinOpen = !in.closed
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// fs returns the sandbox's files and the cleaned path query.
func (f *fake) fs(r *http.Request) (map[string]*fnode, string, error) {
	sb, err := f.sandbox(r)
	if err != nil {
		return nil, "", err
	}
	p := r.URL.Query().Get("path")
	if !path.IsAbs(p) {
		return nil, "", invalid("path must be absolute, got %q", p)
	}
	return f.files[sb.ID], path.Clean(p), nil
}

func info(p string, n *fnode) client.FileInfo {
	return client.FileInfo{Name: path.Base(p), Path: p, Type: n.typ, Size: int64(len(n.data)), Mode: n.mode, ModTime: n.mtime, LinkTarget: n.target}
}

func (f *fake) readFile(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	n := files[p]
	if n != nil && n.typ == "symlink" {
		n = files[path.Join(path.Dir(p), n.target)]
	}
	if n == nil {
		return notFound("no such file: %s", p)
	}
	if n.typ != "file" {
		return invalid("%s is a directory", p)
	}
	_, err = w.Write(n.data)
	return err
}

func (f *fake) writeFile(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	if parent := files[path.Dir(p)]; parent == nil || parent.typ != "dir" {
		return notFound("no such directory: %s", path.Dir(p))
	}
	if n := files[p]; n != nil && n.typ == "dir" {
		return invalid("%s is a directory", p)
	}
	mode, err := strconv.ParseUint(r.URL.Query().Get("mode"), 8, 32)
	if err != nil {
		return invalid("bad mode: %v", err)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	files[p] = &fnode{typ: "file", data: data, mode: uint32(mode), mtime: testNow}
	return reply(w, info(p, files[p]))
}

func (f *fake) stat(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	n := files[p]
	if n == nil {
		return notFound("no such file or directory: %s", p)
	}
	return reply(w, info(p, n))
}

// children returns the paths directly inside dir, sorted.
func children(files map[string]*fnode, dir string) []string {
	var out []string
	for p := range files {
		if p != "/" && path.Dir(p) == dir {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fake) list(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	if n := files[p]; n == nil || n.typ != "dir" {
		return notFound("no such directory: %s", p)
	}
	entries := []client.FileInfo{}
	for _, c := range children(files, p) {
		entries = append(entries, info(c, files[c]))
	}
	return reply(w, map[string]any{"entries": entries})
}

// download writes a tar of path whose entries start with its base name.
func (f *fake) download(w http.ResponseWriter, r *http.Request) error {
	files, p, err := f.fs(r)
	if err != nil {
		return err
	}
	if files[p] == nil {
		return notFound("no such file or directory: %s", p)
	}
	tw := tar.NewWriter(w)
	var walk func(p, name string) error
	walk = func(p, name string) error {
		n := files[p]
		hdr := &tar.Header{Name: name, Mode: int64(n.mode), ModTime: n.mtime}
		switch n.typ {
		case "dir":
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case "symlink":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, n.target
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(n.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(n.data); err != nil {
			return err
		}
		for _, c := range children(files, p) {
			if err := walk(c, name+"/"+path.Base(c)); err != nil {
				return err
			}
		}
		return nil
	}
	root := path.Base(p)
	if f.flatArchives {
		root = "."
	}
	if err := walk(p, root); err != nil {
		return err
	}
	return tw.Close()
}

// upload extracts a tar into the directory path, creating it.
func (f *fake) upload(w http.ResponseWriter, r *http.Request) error {
	files, dir, err := f.fs(r)
	if err != nil {
		return err
	}
	mkdirAll := func(p string) {
		for q := p; q != "/" && files[q] == nil; q = path.Dir(q) {
			files[q] = &fnode{typ: "dir", mode: 0o755, mtime: testNow}
		}
	}
	mkdirAll(dir)
	tr := tar.NewReader(r.Body)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return invalid("bad archive: %v", err)
		}
		name := path.Clean(hdr.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return invalid("entry %q escapes %s", hdr.Name, dir)
		}
		p := path.Join(dir, name)
		mkdirAll(path.Dir(p))
		switch hdr.Typeflag {
		case tar.TypeDir:
			files[p] = &fnode{typ: "dir", mode: uint32(hdr.Mode) & 0o777, mtime: hdr.ModTime}
		case tar.TypeSymlink:
			files[p] = &fnode{typ: "symlink", target: hdr.Linkname, mode: 0o777, mtime: hdr.ModTime}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			files[p] = &fnode{typ: "file", data: data, mode: uint32(hdr.Mode) & 0o777, mtime: hdr.ModTime}
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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

// attach is exec attach: cat echoes stdin as it comes until "eof"; exit N
// and nope behave as in exec.
func (f *fake) attach(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	_, err := f.sandbox(r)
	f.mu.Unlock()
	if err != nil {
		writeAPIErr(w, err)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	_, data, err := c.Read(ctx)
	if err != nil {
		return
	}
	var req client.AttachRequest
	if err := json.Unmarshal(data, &req); err != nil || len(req.Cmd) == 0 {
		return
	}
	f.mu.Lock()
	f.lastAttach = req
	f.mu.Unlock()
	send := func(m client.AttachMessage) {
		b, _ := json.Marshal(m)
		c.Write(ctx, websocket.MessageText, b)
	}
	exit := func(code int) {
		send(client.AttachMessage{Type: client.EventExit, ExitCode: &code})
		c.Close(websocket.StatusNormalClosure, "")
	}
	send(client.AttachMessage{Type: client.EventStart})
	switch req.Cmd[0] {
	case "cat":
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageBinary {
				c.Write(ctx, websocket.MessageBinary, append([]byte{client.StreamStdout}, data...))
				continue
			}
			var m client.AttachMessage
			if json.Unmarshal(data, &m) == nil && m.Type == client.AttachEOF {
				exit(0)
				return
			}
		}
	case "exit":
		code, _ := strconv.Atoi(req.Cmd[1])
		c.Write(ctx, websocket.MessageBinary, append([]byte{client.StreamStderr}, "exiting\n"...))
		exit(code)
	case "nope":
		send(client.AttachMessage{Type: client.EventError, Message: `exec: "nope": executable file not found in $PATH`})
		exit(127)
	default:
		exit(0)
	}
}
