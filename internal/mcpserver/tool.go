package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// kind says how a tool treats the world, for the hints MCP clients show.
type kind int

const (
	changes     kind = iota // changes a sandbox, can be repeated
	readOnly                // only looks
	destructive             // destroys something
)

// add registers a typed tool: its input schema comes from In's fields,
// its output schema from Out's, and an error it returns becomes a tool
// error (an IsError result) that says what to do next.
func add[In, Out any](s *mcp.Server, name, desc string, k kind, h func(context.Context, In) (Out, error)) {
	addRaw(s, name, desc, k, func(ctx context.Context, in In) (*mcp.CallToolResult, Out, error) {
		out, err := h(ctx, in)
		return nil, out, err
	})
}

// addRaw is add for a tool that makes its own result (an image).
func addRaw[In, Out any](s *mcp.Server, name, desc string, k kind, h func(context.Context, In) (*mcp.CallToolResult, Out, error)) {
	yes := true
	ann := &mcp.ToolAnnotations{ReadOnlyHint: k == readOnly, OpenWorldHint: new(bool)}
	if k == destructive {
		ann.DestructiveHint = &yes
	} else {
		ann.DestructiveHint = new(bool)
	}
	mcp.AddTool(s, &mcp.Tool{Name: name, Description: desc, Annotations: ann},
		func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
			if sb, ok := any(in).(sandboxed); ok && sb.ref() == "" {
				var zero Out
				return nil, zero, explain(invalid("sandbox is required"))
			}
			res, out, err := h(ctx, in)
			if err != nil {
				var zero Out
				return nil, zero, explain(err)
			}
			return res, out, nil
		})
}

// hints say what to do next after an error of each kind.
var hints = []struct {
	kind error
	next string
}{
	{client.ErrNotFound, "check the sandbox's ID or name with list_sandboxes (and a path with list_files)"},
	{client.ErrConflict, "check the sandbox's state with get_sandbox: it may be stopped, paused or busy"},
	{client.ErrInvalidArgument, "fix the arguments and call the tool again"},
	{client.ErrAlreadyExists, "pick another name, or use the existing one"},
	{client.ErrResourceExhausted, "destroy sandboxes you no longer need (list_sandboxes), or ask for less"},
	{client.ErrUnavailable, "it may be starting or busy: try again in a moment"},
	{client.ErrUnauthenticated, "the API key is missing or wrong: set RUNTOOLS_API_KEY (stdio) or the Authorization header (HTTP)"},
	{client.ErrPermissionDenied, "this needs an admin key"},
	{context.DeadlineExceeded, "the call took too long: try a shorter command or a longer timeout_seconds"},
}

// hinted is an error that already says what to do next.
type hinted struct {
	err  error
	next string
}

func (h *hinted) Error() string { return fmt.Sprintf("%v (%s)", h.err, h.next) }
func (h *hinted) Unwrap() error { return h.err }

// withHint is err with what to do next about it, when explain's hint for
// its kind would not fit.
func withHint(err error, next string) error { return &hinted{err: err, next: next} }

// explain adds to err what the caller can do about it.
func explain(err error) error {
	var h *hinted
	if errors.As(err, &h) {
		return err
	}
	for _, h := range hints {
		if errors.Is(err, h.kind) {
			return fmt.Errorf("%w (%s)", err, h.next)
		}
	}
	return err
}

// invalid is an error in a tool's arguments.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{client.ErrInvalidArgument}, args...)...)
}
