package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Languages of the code interpreter.
const (
	LanguagePython     = "python"
	LanguageJavaScript = "javascript"
)

// Code event types: one CodeEvent a line of a streamed RunCode.
const (
	CodeEventStdout = "stdout"
	CodeEventStderr = "stderr"
	CodeEventResult = "result"
	CodeEventError  = "error"
	CodeEventNotice = "notice"
	CodeEventEnd    = "end"
)

// RunCodeRequest asks a sandbox's code interpreter to run one cell. Its
// kernel lives as long as the sandbox: variables and imports stay from
// one call to the next.
type RunCodeRequest struct {
	Code string `json:"code"`
	// Language is python (the default) or javascript.
	Language string `json:"language,omitempty"`
	// Context is a CodeContext's ID; empty is the language's default one.
	Context string `json:"context,omitempty"`
	// TimeoutMS interrupts the cell, not the kernel; 0 is the server's
	// default (5 minutes).
	TimeoutMS int               `json:"timeout_ms,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
}

// CodeResult is one value a cell returned or displayed, in each
// representation it has. PNG and JPEG are base64.
type CodeResult struct {
	// IsMain marks the value of the cell's last expression.
	IsMain     bool   `json:"is_main,omitempty"`
	Text       string `json:"text,omitempty"`
	HTML       string `json:"html,omitempty"`
	Markdown   string `json:"markdown,omitempty"`
	SVG        string `json:"svg,omitempty"`
	PNG        string `json:"png,omitempty"`
	JPEG       string `json:"jpeg,omitempty"`
	LaTeX      string `json:"latex,omitempty"`
	JSON       any    `json:"json,omitempty"`
	JavaScript string `json:"javascript,omitempty"`
}

// CodeError is what a cell raised. The kernel lives on.
type CodeError struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Traceback string `json:"traceback"`
}

// Error makes a CodeError an error, for callers that want one.
func (e *CodeError) Error() string { return e.Name + ": " + e.Value }

// CodeEvent is one line of a streamed RunCode: output as it is printed,
// each result, the error, notices, and last the end.
type CodeEvent struct {
	Type           string      `json:"type"`
	Text           string      `json:"text,omitempty"`
	Result         *CodeResult `json:"result,omitempty"`
	Error          *CodeError  `json:"error,omitempty"`
	ExecutionCount int         `json:"execution_count,omitempty"`
	TimedOut       bool        `json:"timed_out,omitempty"`
}

// Execution is a whole cell's outcome.
type Execution struct {
	Stdout         string       `json:"stdout"`
	Stderr         string       `json:"stderr"`
	Results        []CodeResult `json:"results"`
	Error          *CodeError   `json:"error"`
	ExecutionCount int          `json:"execution_count"`
	TimedOut       bool         `json:"timed_out"`
	// Notices say what the interpreter did on its own, such as restarting
	// a kernel that had died.
	Notices []string `json:"notices"`
}

// Text is the text of the cell's last expression's value, or "".
func (e *Execution) Text() string {
	for _, r := range e.Results {
		if r.IsMain {
			return r.Text
		}
	}
	return ""
}

// Add folds one event into the execution.
func (e *Execution) Add(ev CodeEvent) {
	switch ev.Type {
	case CodeEventStdout:
		e.Stdout += ev.Text
	case CodeEventStderr:
		e.Stderr += ev.Text
	case CodeEventResult:
		if ev.Result != nil {
			e.Results = append(e.Results, *ev.Result)
		}
	case CodeEventError:
		e.Error = ev.Error
	case CodeEventNotice:
		e.Notices = append(e.Notices, ev.Text)
	case CodeEventEnd:
		e.ExecutionCount, e.TimedOut = ev.ExecutionCount, ev.TimedOut
	}
}

// CodeContextRequest asks for a new, independent interpreter context.
type CodeContextRequest struct {
	Language string `json:"language,omitempty"`
	Cwd      string `json:"cwd,omitempty"`
}

// CodeContext is one interpreter with its own state.
type CodeContext struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	Cwd      string `json:"cwd"`
}

// RunCode runs a cell in the sandbox's code interpreter (a sandbox of the
// code template, or one built FROM it). onEvent, if not nil, sees every
// event as it comes. A cell that raises is not an error of the call: see
// Execution.Error.
func (c *Client) RunCode(ctx context.Context, ref string, req RunCodeRequest, onEvent func(CodeEvent)) (*Execution, error) {
	ex := &Execution{}
	ended := false
	err := c.stream(ctx, http.MethodPost, sandboxPath(ref, "code"), nil, req, func(line []byte) error {
		var ev CodeEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("decoding code event: %w", err)
		}
		if onEvent != nil {
			onEvent(ev)
		}
		ex.Add(ev)
		if ev.Type == CodeEventEnd {
			ended = true
			return errStreamEnd
		}
		return nil
	})
	if err == errStreamEnd {
		err = nil
	}
	if err == nil && !ended {
		err = fmt.Errorf("%w: the code stream ended before the cell did", ErrUnavailable)
	}
	if err != nil {
		return nil, err
	}
	return ex, nil
}

// CreateCodeContext starts an interpreter with its own state.
func (c *Client) CreateCodeContext(ctx context.Context, ref string, req CodeContextRequest) (*CodeContext, error) {
	var out CodeContext
	return &out, c.call(ctx, http.MethodPost, sandboxPath(ref, "code/contexts"), nil, req, &out)
}

// CodeContexts lists a sandbox's interpreter contexts.
func (c *Client) CodeContexts(ctx context.Context, ref string) ([]CodeContext, error) {
	return getList[CodeContext](ctx, c, sandboxPath(ref, "code/contexts"), nil, "contexts")
}

// DeleteCodeContext ends a context and its kernel.
func (c *Client) DeleteCodeContext(ctx context.Context, ref, id string) error {
	return c.call(ctx, http.MethodDelete, codeContextPath(ref, id), nil, nil, nil)
}

// RestartCodeContext restarts a context's kernel: its state is lost.
func (c *Client) RestartCodeContext(ctx context.Context, ref, id string) (*CodeContext, error) {
	var out CodeContext
	return &out, c.call(ctx, http.MethodPost, codeContextPath(ref, id, "restart"), nil, nil, &out)
}

func codeContextPath(ref, id string, rest ...string) string {
	return sandboxPath(ref, append([]string{"code", "contexts", url.PathEscape(id)}, rest...)...)
}

// RunCode runs a cell in the sandbox's code interpreter; see
// Client.RunCode.
func (s *Sandbox) RunCode(ctx context.Context, req RunCodeRequest, onEvent func(CodeEvent)) (*Execution, error) {
	return s.c.RunCode(ctx, s.ref(), req, onEvent)
}
