package mcpserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// CodeInput is run_code's input.
type CodeInput struct {
	Ref
	Code           string `json:"code" jsonschema:"the code of one cell; variables and imports stay from one call to the next"`
	Language       string `json:"language,omitempty" jsonschema:"python (default) or javascript"`
	Context        string `json:"context,omitempty" jsonschema:"the ID of a code context with its own state; default the language's default context"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" jsonschema:"interrupt the cell after this many seconds (the kernel lives on); default 300"`
}

// CodeOutput is run_code's output. Images the cell made (matplotlib
// plots, ...) come as image content besides it.
type CodeOutput struct {
	Text           string              `json:"text,omitempty" jsonschema:"the value of the cell's last expression, as text"`
	Stdout         string              `json:"stdout"`
	Stderr         string              `json:"stderr"`
	Error          *client.CodeError   `json:"error,omitempty" jsonschema:"what the cell raised, with its traceback; the kernel lives on"`
	Results        []client.CodeResult `json:"results,omitempty" jsonschema:"every value the cell returned or displayed, in each representation it has (images are in the image content instead)"`
	ExecutionCount int                 `json:"execution_count"`
	TimedOut       bool                `json:"timed_out,omitempty"`
	Notices        []string            `json:"notices,omitempty" jsonschema:"what the interpreter did on its own, e.g. restart a kernel that had died (its state is lost)"`
}

func (t tools) addCodeTools(s *mcp.Server) {
	addRaw(s, "run_code", "Run a cell of Python (or JavaScript) in a sandbox's IPython kernel, like a notebook: state stays between calls, the last expression's value is returned as text, and plots come back as images. A cell that raises is not a tool error: see error. The sandbox needs the code template.", changes, t.runCode)
}

func (t tools) runCode(ctx context.Context, in CodeInput) (*mcp.CallToolResult, CodeOutput, error) {
	if in.Code == "" {
		return nil, CodeOutput{}, invalid("code is required")
	}
	timeout := time.Duration(in.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = defaultExecTimeout
	}
	ex, err := t.api.RunCode(ctx, in.Sandbox, client.RunCodeRequest{Code: in.Code, Language: in.Language,
		Context: in.Context, TimeoutMS: int(timeout.Milliseconds())}, nil)
	if errors.Is(err, client.ErrConflict) {
		return nil, CodeOutput{}, withHint(err, `this sandbox has no code interpreter: create one with create_sandbox and template "code", or run python3 with exec`)
	}
	if err != nil {
		return nil, CodeOutput{}, err
	}
	out := CodeOutput{Text: ex.Text(), Stdout: tail([]byte(ex.Stdout)), Stderr: tail([]byte(ex.Stderr)), Error: ex.Error,
		ExecutionCount: ex.ExecutionCount, TimedOut: ex.TimedOut, Notices: ex.Notices}
	var images []mcp.Content
	for _, r := range ex.Results {
		images = append(images, image(r.PNG, "image/png")...)
		images = append(images, image(r.JPEG, "image/jpeg")...)
		r.PNG, r.JPEG = "", ""
		out.Results = append(out.Results, r)
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, CodeOutput{}, fmt.Errorf("encoding the outcome: %w", err)
	}
	return &mcp.CallToolResult{Content: append([]mcp.Content{&mcp.TextContent{Text: string(data)}}, images...)}, out, nil
}

// image is the image content of a base64 result, if it has one.
func image(b64, mime string) []mcp.Content {
	if b64 == "" {
		return nil
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil
	}
	return []mcp.Content{&mcp.ImageContent{Data: data, MIMEType: mime}}
}
