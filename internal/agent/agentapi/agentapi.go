// Package agentapi holds the wire types spoken between the daemon and the
// in-sandbox agent. It depends only on api/wire (the types it shares with
// the public API), so both sides can import it.
package agentapi

import "github.com/runtools/runtools/api/wire"

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
	EnvWorkdir  = "RUNTOOLS_AGENT_WORKDIR"  // a process's directory when its request names none
	EnvUser     = "RUNTOOLS_AGENT_USER"     // a process's user when its request names none
	EnvNoHooks  = "RUNTOOLS_AGENT_NO_HOOKS" // "1": start no hooks at boot (a build step's sandbox)
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
	// StdinOpen keeps a background process's stdin open for writes
	// (POST /processes/{pid}/stdin) until they close it or it exits.
	StdinOpen bool `json:"stdin_open,omitempty"`
}

// MaxStdinBody bounds one write to a process's stdin (POST
// /processes/{pid}/stdin).
const MaxStdinBody = 1 << 20

// Event types in an exec or output stream (application/x-ndjson, one Event per line).
const (
	EventStart  = wire.EventStart
	EventStdout = wire.EventStdout
	EventStderr = wire.EventStderr
	EventExit   = wire.EventExit
	EventError  = wire.EventError
)

// Event is one line of an exec stream.
type Event = wire.Event

// StartResponse answers a background exec.
type StartResponse struct {
	PID int `json:"pid"`
}

// Process describes a process started through the agent.
type Process = wire.Process

// SignalRequest sends a signal to a process group.
type SignalRequest struct {
	Signal string `json:"signal"` // TERM, KILL, INT, HUP, ... or a number
}

// FileInfo describes one file or directory.
type FileInfo = wire.FileInfo

// Health answers GET /health.
type Health struct {
	OK       bool  `json:"ok"`
	UptimeMS int64 `json:"uptime_ms"`
}

// Pids answers GET /pids: the processes in the whole sandbox, however
// they were started, counted from /proc. Threads are not counted.
type Pids struct {
	Processes int `json:"processes"`
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

// Upgrade protocols: POST /attach, POST /sftp and POST /forward?port=N
// answer 101 Switching Protocols with one of these, then carry a raw stream
// on the connection.
const (
	UpgradeAttach  = "runtools-attach/1"
	UpgradeSFTP    = "runtools-sftp/1"
	UpgradeForward = "runtools-forward/1" // the bytes of a TCP port on the sandbox's loopback
)

// AttachRequest is the JSON body of POST /attach: a process attached to the
// caller's stream, with stdin, optionally on a PTY (an SSH session).
type AttachRequest struct {
	Cmd  []string          `json:"cmd,omitempty"` // empty: the user's login shell
	Env  map[string]string `json:"env,omitempty"`
	Cwd  string            `json:"cwd,omitempty"`
	User string            `json:"user,omitempty"`
	TTY  bool              `json:"tty,omitempty"`
	Cols uint16            `json:"cols,omitempty"`
	Rows uint16            `json:"rows,omitempty"`
	Term string            `json:"term,omitempty"` // TERM for a TTY, default xterm-256color
}

// Frames on an attach stream: 1 byte of type, 4 bytes of big-endian payload
// length, then the payload. Stdout and stderr frames flow from the agent;
// stdin, resize, signal and EOF frames from the caller. The agent's last
// frame is FrameExit.
const (
	FrameStdin  byte = 1
	FrameStdout byte = 2
	FrameStderr byte = 3
	FrameResize byte = 4 // payload: cols, rows as two big-endian uint16
	FrameSignal byte = 5 // payload: a signal name (TERM, INT, ...)
	FrameEOF    byte = 6 // the caller's stdin ended
	FrameExit   byte = 7 // payload: the exit code as a big-endian int32
	FrameError  byte = 8 // payload: why the process could not start (FrameExit follows)
)

// MaxFrame bounds a frame's payload.
const MaxFrame = 1 << 20

// An archive read with changed_only=true leaves out the bytes of each
// regular file, and the target of each symlink, the sandbox has not
// changed: one of the lower layer of gVisor's root overlay, which reports
// the lower layer's device for it and the upper layer's for one written,
// copied up or created. Such an entry has size 0 and this PAX record holds
// the file's size. A sync extraction over the same template keeps it as
// the destination has it, and fails with a conflict when it finds nothing
// of its type there. Saving a sandbox sends only what changed.
const PAXUnchanged = "RUNTOOLS.unchanged"
