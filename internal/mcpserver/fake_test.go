package mcpserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/runtools/runtools/client"
)

// fakeAPI is an API with one team's sandboxes in memory. A sandbox of
// another team ("theirs") is there too, and is not found, as the server
// says of it.
type fakeAPI struct {
	mu    sync.Mutex
	sbs   map[string]*client.Sandbox
	files map[string][]byte // "id:path"
	execs []client.ExecRequest
	acts  []client.ComputerAction
	seq   int
}

var _ API = (*fakeAPI)(nil)

func newFake() *fakeAPI {
	return &fakeAPI{sbs: map[string]*client.Sandbox{}, files: map[string][]byte{}}
}

func notFound(ref string) error {
	return &client.APIError{Status: 404, Code: "not_found", Message: fmt.Sprintf("sandbox %q not found", ref)}
}

// find returns the sandbox with this ID or name; the caller holds mu.
func (f *fakeAPI) find(ref string) (*client.Sandbox, error) {
	for _, sb := range f.sbs {
		if sb.ID == ref || sb.Name == ref && ref != "" {
			return sb, nil
		}
	}
	return nil, notFound(ref)
}

func (f *fakeAPI) with(ref string, fn func(*client.Sandbox)) (*client.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sb, err := f.find(ref)
	if err != nil {
		return nil, err
	}
	if fn != nil {
		fn(sb)
	}
	c := *sb
	return &c, nil
}

func (f *fakeAPI) Create(_ context.Context, req client.CreateRequest) (*client.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	tpl := req.Template
	if tpl == "" {
		tpl = "base"
	}
	sb := &client.Sandbox{ID: fmt.Sprintf("sb-%d", f.seq), Name: req.Name, Template: tpl, State: client.StateRunning,
		VCPUs: 2, MemoryMB: 1024, Desktop: tpl == "desktop", Ports: []int{3000}}
	sb.URLs = []client.URL{{Port: 3000, URL: "http://3000-" + sb.ID + ".sandboxes.localhost"}}
	f.sbs[sb.ID] = sb
	c := *sb
	return &c, nil
}

func (f *fakeAPI) Get(_ context.Context, ref string) (*client.Sandbox, error) {
	return f.with(ref, nil)
}

func (f *fakeAPI) List(context.Context, ...client.ListOption) ([]*client.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*client.Sandbox
	for _, sb := range f.sbs {
		c := *sb
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *client.Sandbox) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fakeAPI) Destroy(_ context.Context, ref string) error {
	sb, err := f.with(ref, nil)
	if err == nil {
		f.mu.Lock()
		delete(f.sbs, sb.ID)
		f.mu.Unlock()
	}
	return err
}

func (f *fakeAPI) Pause(_ context.Context, ref string) (*client.Sandbox, error) {
	return f.with(ref, func(sb *client.Sandbox) { sb.State = client.StatePaused })
}

func (f *fakeAPI) Resume(_ context.Context, ref string) (*client.Sandbox, error) {
	return f.with(ref, func(sb *client.Sandbox) { sb.State = client.StateRunning })
}

func (f *fakeAPI) Expose(_ context.Context, ref string, port int) (*client.Sandbox, error) {
	return f.with(ref, func(sb *client.Sandbox) {
		sb.Ports = append(sb.Ports, port)
		sb.URLs = append(sb.URLs, client.URL{Port: port, URL: fmt.Sprintf("http://%d-%s.sandboxes.localhost", port, sb.ID)})
	})
}

func (f *fakeAPI) SignedLink(_ context.Context, ref string, port, _ int) (*client.Link, error) {
	sb, err := f.with(ref, nil)
	if err != nil {
		return nil, err
	}
	return &client.Link{URL: fmt.Sprintf("http://%d-%s.sandboxes.localhost/?sig=x", port, sb.ID)}, nil
}

// Exec echoes: stdout is the command line, and a command "exit N" exits N.
func (f *fakeAPI) Exec(_ context.Context, ref string, req client.ExecRequest) (*client.ExecResult, error) {
	sb, err := f.with(ref, func(sb *client.Sandbox) { sb.State = client.StateRunning })
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.execs = append(f.execs, req)
	f.mu.Unlock()
	line := strings.Join(req.Cmd, " ")
	res := &client.ExecResult{Stdout: []byte(line + "\n" + string(req.Stdin)), Stderr: []byte("in " + sb.ID)}
	if i := strings.LastIndex(line, "exit "); i >= 0 {
		_, _ = fmt.Sscanf(line[i:], "exit %d", &res.ExitCode)
	}
	return res, nil
}

func (f *fakeAPI) Start(_ context.Context, ref string, req client.ExecRequest) (int, error) {
	if _, err := f.with(ref, nil); err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.execs = append(f.execs, req)
	f.mu.Unlock()
	return 42, nil
}

func (f *fakeAPI) ReadFile(_ context.Context, ref, path string) ([]byte, error) {
	sb, err := f.with(ref, nil)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data, ok := f.files[sb.ID+":"+path]
	if !ok {
		return nil, &client.APIError{Status: 404, Code: "not_found", Message: path + ": no such file"}
	}
	return data, nil
}

func (f *fakeAPI) WriteFile(_ context.Context, ref, path string, data []byte) (*client.FileInfo, error) {
	sb, err := f.with(ref, nil)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[sb.ID+":"+path] = data
	return &client.FileInfo{Path: path, Size: int64(len(data))}, nil
}

func (f *fakeAPI) ListFiles(_ context.Context, ref, dir string) ([]client.FileInfo, error) {
	sb, err := f.with(ref, nil)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []client.FileInfo
	for k, v := range f.files {
		if p, ok := strings.CutPrefix(k, sb.ID+":"+strings.TrimSuffix(dir, "/")+"/"); ok {
			out = append(out, client.FileInfo{Name: p, Path: dir + "/" + p, Type: "file", Size: int64(len(v))})
		}
	}
	return out, nil
}

func (f *fakeAPI) Screenshot(_ context.Context, ref string) ([]byte, error) {
	sb, err := f.with(ref, nil)
	if err != nil {
		return nil, err
	}
	if !sb.Desktop {
		return nil, &client.APIError{Status: 409, Code: "conflict", Message: "not a desktop sandbox"}
	}
	return []byte("\x89PNG fake"), nil
}

func (f *fakeAPI) Act(_ context.Context, ref string, a client.ComputerAction) (*client.ComputerResult, error) {
	if _, err := f.with(ref, nil); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, a)
	res := &client.ComputerResult{}
	if a.X != nil {
		res.Cursor = client.Point{X: *a.X, Y: *a.Y}
	}
	return res, nil
}

// RunCode answers in a sandbox of the code template only: the code is
// printed, the main result is "42", and one PNG is displayed.
func (f *fakeAPI) RunCode(_ context.Context, ref string, req client.RunCodeRequest, _ func(client.CodeEvent)) (*client.Execution, error) {
	sb, err := f.with(ref, nil)
	if err != nil {
		return nil, err
	}
	if sb.Template != "code" {
		return nil, &client.APIError{Status: 409, Code: "conflict", Message: "the sandbox's template has no code interpreter"}
	}
	return &client.Execution{Stdout: req.Code + "\n", ExecutionCount: 1, Results: []client.CodeResult{
		{PNG: base64.StdEncoding.EncodeToString([]byte("\x89PNG plot")), Text: "<Figure>"},
		{IsMain: true, Text: "42"},
	}}, nil
}
