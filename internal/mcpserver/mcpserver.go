// Package mcpserver serves runtools over the Model Context Protocol (MCP):
// it builds an MCP server whose tools let an AI agent create, use and
// destroy sandboxes. Every tool calls the runtools server through the
// public Go client, so the stdio server (`runtools mcp`) and the API
// server's /mcp route behave the same.
package mcpserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// API is what the tools need of a runtools server: the client calls they
// make. ForClient adapts a *client.Client to it; tests use a fake.
type API interface {
	Create(ctx context.Context, req client.CreateRequest) (*client.Sandbox, error)
	Get(ctx context.Context, ref string) (*client.Sandbox, error)
	List(ctx context.Context, opts ...client.ListOption) ([]*client.Sandbox, error)
	Destroy(ctx context.Context, ref string) error
	Pause(ctx context.Context, ref string) (*client.Sandbox, error)
	Resume(ctx context.Context, ref string) (*client.Sandbox, error)
	Expose(ctx context.Context, ref string, port int) (*client.Sandbox, error)
	SignedLink(ctx context.Context, ref string, port, ttlSeconds int) (*client.Link, error)
	Exec(ctx context.Context, ref string, req client.ExecRequest) (*client.ExecResult, error)
	Start(ctx context.Context, ref string, req client.ExecRequest) (int, error)
	ReadFile(ctx context.Context, ref, path string) ([]byte, error)
	WriteFile(ctx context.Context, ref, path string, data []byte) (*client.FileInfo, error)
	ListFiles(ctx context.Context, ref, path string) ([]client.FileInfo, error)
	Screenshot(ctx context.Context, ref string) ([]byte, error)
	Act(ctx context.Context, ref string, a client.ComputerAction) (*client.ComputerResult, error)
	RunCode(ctx context.Context, ref string, req client.RunCodeRequest, onEvent func(client.CodeEvent)) (*client.Execution, error)
}

// clientAPI is API over a *client.Client, whose file calls hang off
// Files(ref).
type clientAPI struct{ *client.Client }

var _ API = clientAPI{}

// ForClient returns the API that c reaches.
func ForClient(c *client.Client) API { return clientAPI{c} }

// ReadFile reads at most one byte more than maxRead: enough to tell a
// file is too large.
func (c clientAPI) ReadFile(ctx context.Context, ref, path string) ([]byte, error) {
	rc, err := c.Files(ref).Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxRead+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

func (c clientAPI) WriteFile(ctx context.Context, ref, path string, data []byte) (*client.FileInfo, error) {
	return c.Files(ref).Write(ctx, path, bytes.NewReader(data), client.WriteOptions{MkDirs: true})
}

func (c clientAPI) ListFiles(ctx context.Context, ref, path string) ([]client.FileInfo, error) {
	return c.Files(ref).List(ctx, path)
}

// Options configure New.
type Options struct {
	Version string       // reported to MCP clients; "dev" when empty
	Log     *slog.Logger // warnings and errors of the MCP machinery; nil: none
	// Schemas caches the tools' JSON schemas across servers built one
	// per request; nil builds them each time.
	Schemas *mcp.SchemaCache
}

// instructions tell the model what the server is for.
const instructions = `runtools gives you isolated Linux sandboxes (Debian 12, gVisor) to run code in.
Typical use: create_sandbox, then exec commands and read/write/list files in it
(or run_code, in a sandbox of template "code", for Python with state kept between calls),
port_url to open a dev server it runs, and destroy_sandbox when done.
Sandboxes are named by ID or name. A paused sandbox wakes on its own when used.
Desktop sandboxes (template "desktop") also take screenshot, click, type_text and press_keys.`

// New returns an MCP server whose tools act through api.
func New(api API, o Options) *mcp.Server {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Log = slog.New(warnings{o.Log.Handler()}) // the SDK logs every session at info
	s := mcp.NewServer(&mcp.Implementation{Name: "runtools", Title: "runtools sandboxes", Version: o.Version},
		&mcp.ServerOptions{Instructions: instructions, Logger: o.Log, SchemaCache: o.Schemas})
	t := tools{api: api}
	t.addSandboxTools(s)
	t.addExecTools(s)
	t.addCodeTools(s)
	t.addFileTools(s)
	t.addDesktopTools(s)
	return s
}

// tools holds what every tool handler shares.
type tools struct{ api API }

// warnings passes on records of level warning and above.
type warnings struct{ slog.Handler }

func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnings{w.Handler.WithAttrs(attrs)}
}
func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }
