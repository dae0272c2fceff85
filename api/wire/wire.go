// Package wire holds the JSON types that the API and the in-sandbox agent
// both speak, written once: the public client and the agent's wire package
// name them as their own. api/openapi.yaml describes them, and a test of
// the client checks the two agree. It depends on nothing.
package wire

import "time"

// Event types of an exec or process output stream (application/x-ndjson,
// one Event a line).
const (
	EventStart  = "start"
	EventStdout = "stdout"
	EventStderr = "stderr"
	EventExit   = "exit"
	EventError  = "error"
)

// Event is one line of a streamed exec or process output.
type Event struct {
	Type     string `json:"type"`
	PID      int    `json:"pid,omitempty"`
	Data     []byte `json:"data,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Message  string `json:"message,omitempty"`
	// Code is an error event's kind, as an error answer's code
	// ("conflict" when the sandbox stopped while the command ran).
	Code string `json:"code,omitempty"`
}

// Process is a process started in a sandbox in the background.
type Process struct {
	PID       int       `json:"pid"`
	Cmd       []string  `json:"cmd"`
	StartedAt time.Time `json:"started_at"`
	Running   bool      `json:"running"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	// StdinOpen: the process's stdin takes writes: it was started with
	// stdin_open, and neither the caller closed its stdin nor the process
	// exited (nor did a write find that the process closed its end).
	StdinOpen bool `json:"stdin_open"`
}

// FileInfo describes a file or directory inside a sandbox.
type FileInfo struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	Type       string    `json:"type"` // file, dir, symlink, other
	Size       int64     `json:"size"`
	Mode       uint32    `json:"mode"`
	ModTime    time.Time `json:"mod_time"`
	LinkTarget string    `json:"link_target,omitempty"`
}
