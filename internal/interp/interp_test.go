package interp

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// fakeAgent forwards to an HTTP server that plays the interpreter once
// started.
type fakeAgent struct {
	mu      sync.Mutex
	addr    string
	jupyter bool
	up      bool
	files   []string
	started []agentapi.ExecRequest
}

func (a *fakeAgent) Forward(ctx context.Context, port int) (net.Conn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.up || port != Port {
		return nil, errors.New("connection refused")
	}
	return net.Dial("tcp", a.addr)
}

func (a *fakeAgent) Stat(ctx context.Context, path string) (agentapi.FileInfo, error) {
	if !a.jupyter {
		return agentapi.FileInfo{}, errdefs.ErrNotFound
	}
	return agentapi.FileInfo{Path: path, Type: "dir"}, nil
}

func (a *fakeAgent) WriteFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode, mkdirs bool) (agentapi.FileInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files = append(a.files, path)
	return agentapi.FileInfo{Path: path}, nil
}

func (a *fakeAgent) Start(ctx context.Context, req agentapi.ExecRequest) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.started = append(a.started, req)
	a.up = true
	return 7, nil
}

func newFake(t *testing.T, jupyter bool) *fakeAgent {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/execute":
			io.WriteString(w, `{"type":"result","result":{"is_main":true,"text":"2"}}`+"\n"+`{"type":"end","execution_count":1}`+"\n")
		case "/contexts/nope":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"no such context"}`)
		default:
			io.WriteString(w, `{"contexts":[{"id":"python","language":"python","cwd":"/root"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return &fakeAgent{addr: strings.TrimPrefix(srv.URL, "http://"), jupyter: jupyter}
}

func TestStartsTheInterpreterOnFirstUse(t *testing.T) {
	ag := newFake(t, true)
	var got []client.CodeEvent
	err := New(ag).Run(context.Background(), client.RunCodeRequest{Code: "1+1"}, func(ev client.CodeEvent) error {
		got = append(got, ev)
		return nil
	})
	if err != nil || len(got) != 2 || got[0].Result.Text != "2" {
		t.Fatalf("run: %+v, %v", got, err)
	}
	if len(ag.started) != 1 || ag.started[0].Cmd[1] != Dir+"/server.py" || len(ag.files) < 2 {
		t.Fatalf("started %+v with files %v", ag.started, ag.files)
	}
	// Running, it is not started again.
	if _, err := New(ag).Contexts(context.Background()); err != nil || len(ag.started) != 1 {
		t.Fatalf("second call: %v, started %d times", err, len(ag.started))
	}
	if err := New(ag).DeleteContext(context.Background(), "nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("an unknown context: %v", err)
	}
}

func TestNoInterpreterWithoutIPython(t *testing.T) {
	ag := newFake(t, false)
	err := New(ag).Run(context.Background(), client.RunCodeRequest{Code: "1"}, func(client.CodeEvent) error { return nil })
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "--template code") || len(ag.started) != 0 {
		t.Fatalf("err = %v, started %d", err, len(ag.started))
	}
}
