// Package agentapi holds the wire types spoken between the daemon and the
// in-sandbox agent. It has no dependencies so both sides can import it.
package agentapi

import "time"

// Port is the fixed TCP port the agent listens on inside every sandbox.
// The public proxy never forwards to it.
const Port = 49983

// Environment variables the daemon sets on the agent (PID 1). The agent
// removes them from its own environment before starting any process.
const (
	EnvToken    = "RUNTOOLS_AGENT_TOKEN"    // bearer secret for every agent call
	EnvDNS      = "RUNTOOLS_AGENT_DNS"      // comma-separated nameservers for /etc/resolv.conf
	EnvHostname = "RUNTOOLS_AGENT_HOSTNAME" // written to /etc/hostname and /etc/hosts
	EnvNproc    = "RUNTOOLS_AGENT_NPROC"    // RLIMIT_NPROC for every process the agent starts
)

// ExecRequest starts a process.
type ExecRequest struct {
	Cmd        []string          `json:"cmd"`
	Env        map[string]string `json:"env,omitempty"`
	Cwd        string            `json:"cwd,omitempty"`
	User       string            `json:"user,omitempty"` // name, uid or uid:gid; default root
	TimeoutMS  int64             `json:"timeout_ms,omitempty"`
	Stdin      []byte            `json:"stdin,omitempty"`
	Background bool              `json:"background,omitempty"`
}

// Event types in an exec or output stream (application/x-ndjson, one Event per line).
const (
	EventStart  = "start"
	EventStdout = "stdout"
	EventStderr = "stderr"
	EventExit   = "exit"
	EventError  = "error"
)

// Event is one line of an exec stream.
type Event struct {
	Type     string `json:"type"`
	PID      int    `json:"pid,omitempty"`
	Data     []byte `json:"data,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Message  string `json:"message,omitempty"`
}

// StartResponse answers a background exec.
type StartResponse struct {
	PID int `json:"pid"`
}

// Process describes a process started through the agent.
type Process struct {
	PID       int       `json:"pid"`
	Cmd       []string  `json:"cmd"`
	StartedAt time.Time `json:"started_at"`
	Running   bool      `json:"running"`
	ExitCode  *int      `json:"exit_code,omitempty"`
}

// SignalRequest sends a signal to a process group.
type SignalRequest struct {
	Signal string `json:"signal"` // TERM, KILL, INT, HUP, ... or a number
}

// FileInfo describes one file or directory.
type FileInfo struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	Type       string    `json:"type"` // file, dir, symlink, other
	Size       int64     `json:"size"`
	Mode       uint32    `json:"mode"`
	ModTime    time.Time `json:"mod_time"`
	LinkTarget string    `json:"link_target,omitempty"`
}

// Health answers GET /health.
type Health struct {
	OK       bool  `json:"ok"`
	UptimeMS int64 `json:"uptime_ms"`
}

// SpawnResult answers GET /debug/spawn: the time to fork and exec `true`
// inside the sandbox, measured by the agent, for benchmarks.
type SpawnResult struct {
	Nanos []int64 `json:"nanos"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Code    string `json:"code"` // an errdefs wire code
	Message string `json:"message"`
}

// TokenRequest replaces the agent's bearer token (POST /token).
type TokenRequest struct {
	Token string `json:"token"`
	Seed  []byte `json:"seed,omitempty"` // random bytes for the guest's entropy pool
}
