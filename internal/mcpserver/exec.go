package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// defaultExecTimeout bounds a command the caller gave no timeout: an
// agent that starts a server in the foreground gets its answer back.
const defaultExecTimeout = 5 * time.Minute

// maxOutput is how much of each output stream a tool returns: the tail,
// where errors are.
const maxOutput = 64 << 10

// ExecInput is exec's input.
type ExecInput struct {
	Ref
	Command        string            `json:"command,omitempty" jsonschema:"a shell command line, run with sh -c (pipes, && and redirections work), e.g. 'cd app && npm test'"`
	Args           []string          `json:"args,omitempty" jsonschema:"instead of command: the program and its arguments, run as they are without a shell"`
	Cwd            string            `json:"cwd,omitempty" jsonschema:"working directory; default the template's (/root for base)"`
	Env            map[string]string `json:"env,omitempty" jsonschema:"extra environment variables"`
	Stdin          string            `json:"stdin,omitempty" jsonschema:"text given to the command's standard input"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty" jsonschema:"stop the command after this many seconds; default 300"`
	Background     bool              `json:"background,omitempty" jsonschema:"start the command and return its pid at once, for servers and other long runs (its output is not returned)"`
}

// ExecOutput is exec's output.
type ExecOutput struct {
	ExitCode int    `json:"exit_code" jsonschema:"the command's exit code; 0 is success"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	TimedOut bool   `json:"timed_out,omitempty" jsonschema:"the command ran out of time and was stopped"`
	PID      int    `json:"pid,omitempty" jsonschema:"the process ID of a background command"`
}

func (t tools) addExecTools(s *mcp.Server) {
	add(s, "exec", "Run a command in a sandbox and return its exit code and output (the last 64 KiB of each stream). A failing command is not a tool error: check exit_code. A paused sandbox is resumed first. Use background for servers; then port_url gives their URL.", changes, t.exec)
}

func (t tools) exec(ctx context.Context, in ExecInput) (ExecOutput, error) {
	req, err := execRequest(in)
	if err != nil {
		return ExecOutput{}, err
	}
	if in.Background {
		pid, err := t.api.Start(ctx, in.Sandbox, req)
		return ExecOutput{PID: pid}, err
	}
	res, err := t.api.Exec(ctx, in.Sandbox, req)
	if err != nil {
		return ExecOutput{}, err
	}
	if res.Error != "" {
		return ExecOutput{}, fmt.Errorf("the command could not start: %s (check the program's name and path, e.g. with exec 'command -v NAME')", res.Error)
	}
	return ExecOutput{ExitCode: res.ExitCode, Stdout: tail(res.Stdout), Stderr: tail(res.Stderr), TimedOut: res.TimedOut}, nil
}

func execRequest(in ExecInput) (client.ExecRequest, error) {
	req := client.ExecRequest{Cmd: in.Args, Cwd: in.Cwd, Env: in.Env, Background: in.Background}
	switch {
	case in.Command != "" && len(in.Args) > 0:
		return req, invalid("give command or args, not both")
	case in.Command != "":
		req.Cmd = []string{"sh", "-c", in.Command}
	case len(in.Args) == 0:
		return req, invalid("command is required (a shell command line), or args")
	}
	if in.Background && in.Stdin != "" {
		return req, invalid("a background command takes no stdin")
	}
	if in.Stdin != "" {
		req.Stdin = []byte(in.Stdin)
	}
	timeout := time.Duration(in.TimeoutSeconds) * time.Second
	if timeout <= 0 && !in.Background {
		timeout = defaultExecTimeout
	}
	req.TimeoutMS = timeout.Milliseconds()
	return req, nil
}

// tail returns the last maxOutput bytes of b as text, saying how much
// was cut.
func tail(b []byte) string {
	if len(b) <= maxOutput {
		return string(b)
	}
	return fmt.Sprintf("[... %d bytes cut ...]\n", len(b)-maxOutput) + string(b[len(b)-maxOutput:])
}
