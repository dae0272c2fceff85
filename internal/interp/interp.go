// Package interp runs code in a sandbox's code interpreter: the server of
// templates/interpreter (IPython kernels for Python, vm contexts for
// JavaScript), which it puts into the sandbox and starts at the first use,
// and reaches on the sandbox's loopback through the agent, never over the
// network. It checks what the interpreter sends, which runs inside the
// sandbox and is not trusted, before passing it on.
package interp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/templates"
)

// Port is where the interpreter listens, on the sandbox's loopback.
const Port = 49999

// Dir is where the interpreter's files go in a sandbox.
const Dir = "/opt/runtools/interpreter"

// ipython is there in a template that can run the Python kernel.
const ipython = "/usr/lib/python3/dist-packages/IPython"

// startWait bounds how long a starting interpreter has to listen.
const startWait = 60 * time.Second

// Agent is what the interpreter needs of a sandbox: its agent's forward,
// files and processes (started with the sandbox's environment).
type Agent interface {
	Forward(ctx context.Context, port int) (net.Conn, error)
	Stat(ctx context.Context, path string) (agentapi.FileInfo, error)
	WriteFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode, mkdirs bool) (agentapi.FileInfo, error)
	Start(ctx context.Context, req agentapi.ExecRequest) (int, error)
}

// Interp is one sandbox's interpreter, for the length of one call.
type Interp struct {
	ag Agent
	hc *http.Client
}

// New returns the interpreter of the sandbox that ag serves.
func New(ag Agent) *Interp {
	tr := &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return ag.Forward(ctx, Port) },
		DisableKeepAlives: true,
	}
	return &Interp{ag: ag, hc: &http.Client{Transport: tr}}
}

// do sends one request, starting the interpreter first if it does not
// answer.
func (in *Interp) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	send := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, "http://interpreter"+path, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return in.hc.Do(req)
	}
	resp, err := send()
	if err != nil && ctx.Err() == nil {
		if err := in.start(ctx); err != nil {
			return nil, err
		}
		resp, err = send()
	}
	if err != nil {
		return nil, fmt.Errorf("reaching the sandbox's code interpreter: %w: %w", errdefs.ErrUnavailable, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, answerError(resp)
	}
	return resp, nil
}

// start puts the interpreter's files into the sandbox, starts it, and
// waits until it listens.
func (in *Interp) start(ctx context.Context) error {
	if _, err := in.ag.Stat(ctx, ipython); err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("this sandbox has no code interpreter (its template has no IPython kernel): "+
				"create it with --template code, or build your template FROM code: %w", errdefs.ErrConflict)
		}
		return err
	}
	err := fs.WalkDir(templates.Interpreter, "interpreter", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.Interpreter, p)
		if err != nil {
			return err
		}
		_, err = in.ag.WriteFile(ctx, Dir+"/"+e.Name(), bytes.NewReader(b), 0o644, true)
		return err
	})
	if err != nil {
		return fmt.Errorf("putting the code interpreter into the sandbox: %w", err)
	}
	_, err = in.ag.Start(ctx, agentapi.ExecRequest{Cmd: []string{"python3", Dir + "/server.py"}, Background: true,
		Env: map[string]string{"PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONUNBUFFERED": "1"}})
	if err != nil {
		return fmt.Errorf("starting the code interpreter: %w", err)
	}
	deadline := time.Now().Add(startWait)
	for {
		c, err := in.ag.Forward(ctx, Port)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the code interpreter did not start in %s: %w: %w", startWait, errdefs.ErrUnavailable, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answerError turns the interpreter's error answer into an error of the
// kind its status says.
func answerError(resp *http.Response) error {
	var body struct {
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &body) != nil || body.Message == "" {
		body.Message = resp.Status
	}
	kind := errdefs.ErrUnavailable
	switch resp.StatusCode {
	case http.StatusNotFound:
		kind = errdefs.ErrNotFound
	case http.StatusBadRequest:
		kind = errdefs.ErrInvalidArgument
	}
	return fmt.Errorf("code interpreter: %s: %w", body.Message, kind)
}

// CreateContext starts a context with its own kernel.
func (in *Interp) CreateContext(ctx context.Context, req client.CodeContextRequest) (*client.CodeContext, error) {
	var out client.CodeContext
	return &out, in.call(ctx, http.MethodPost, "/contexts", req, &out)
}

// Contexts lists the sandbox's contexts.
func (in *Interp) Contexts(ctx context.Context) ([]client.CodeContext, error) {
	var out struct {
		Contexts []client.CodeContext `json:"contexts"`
	}
	err := in.call(ctx, http.MethodGet, "/contexts", nil, &out)
	return out.Contexts, err
}

// DeleteContext ends a context and its kernel.
func (in *Interp) DeleteContext(ctx context.Context, id string) error {
	return in.call(ctx, http.MethodDelete, "/contexts/"+id, nil, nil)
}

// RestartContext starts a context's kernel again.
func (in *Interp) RestartContext(ctx context.Context, id string) (*client.CodeContext, error) {
	var out client.CodeContext
	return &out, in.call(ctx, http.MethodPost, "/contexts/"+id+"/restart", nil, &out)
}

func (in *Interp) call(ctx context.Context, method, path string, body, out any) error {
	resp, err := in.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("reading the code interpreter's answer: %w: %w", errdefs.ErrUnavailable, err)
	}
	return nil
}
