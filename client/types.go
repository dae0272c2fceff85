package client

import (
	"time"

	"github.com/runtools/runtools/api/wire"
)

// Sandbox states.
const (
	StateCreating  = "creating"
	StateRunning   = "running"
	StatePausing   = "pausing"
	StatePaused    = "paused"
	StateResuming  = "resuming"
	StateStopping  = "stopping"
	StateStopped   = "stopped" // processes ended, disk kept: start it again
	StateDestroyed = "destroyed"
	StateError     = "error"
)

// Sandbox is a sandbox as the API reports it.
type Sandbox struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Team       string `json:"team"`
	Template   string `json:"template"`
	State      string `json:"state"`
	StopReason string `json:"stop_reason,omitempty"` // why it stopped: destroyed, oom, crashed, host restarted, ...
	VCPUs      int    `json:"vcpus"`
	MemoryMB   int    `json:"memory_mb"`
	DiskMB     int    `json:"disk_mb"`
	Disk       string `json:"disk"`       // durable or ephemeral
	AutoStart  bool   `json:"auto_start"` // a use of it when stopped starts it
	IP         string `json:"ip,omitempty"`
	Node       string `json:"node,omitempty"` // the server (cluster node) that runs it
	// IdleTimeout is how many seconds the sandbox may be idle before it
	// is paused; 0 never pauses it.
	IdleTimeout int `json:"idle_timeout"`
	// Public dev-server URLs need no access token.
	Public bool `json:"public"`
	// Ports reachable through the dev-server URLs, and their URLs.
	Ports []int `json:"ports"`
	URLs  []URL `json:"urls,omitempty"`
	// AccessToken opens private dev-server URLs: send it as the
	// X-Runtools-Access-Token header, or use a signed link.
	AccessToken string     `json:"access_token,omitempty"`
	SSH         *SSHAccess `json:"ssh,omitempty"`
	// Desktop sandboxes (template desktop) serve a desktop in the browser
	// at the URL of port 6901; VNCReady says it is up.
	Desktop  bool `json:"desktop,omitempty"`
	VNCReady bool `json:"vnc_ready,omitempty"`
	// LimitHit is the last limit the sandbox hit while running, e.g.
	// "limit: memory: 1 process(es) killed, out of memory (256 MB)".
	LimitHit string `json:"limit_hit,omitempty"`
	// Egress is the sandbox's egress policy.
	Egress   Egress            `json:"egress"`
	Env      map[string]string `json:"env,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Labels are the user's key=value labels: List filters by them
	// (WithLabel), and the sandbox's status events carry them.
	Labels map[string]string `json:"labels,omitempty"`
	// Volumes are the team's volumes the sandbox mounts.
	Volumes []VolumeMount `json:"volumes,omitempty"`
	// TimeoutAt is when the sandbox's hard lifetime runs out: it is then
	// destroyed, or paused if OnTimeout is "pause". A warning event comes
	// a minute before.
	TimeoutAt *time.Time `json:"timeout_at,omitempty"`
	OnTimeout string     `json:"on_timeout,omitempty"` // "destroy" or "pause"
	// PausedTTLAt is when the paused sandbox is destroyed for staying
	// paused (the server's --paused-ttl); absent when it is not paused
	// or the server keeps paused sandboxes.
	PausedTTLAt *time.Time `json:"paused_ttl_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	StoppedAt   *time.Time `json:"stopped_at,omitempty"`

	c *Client
}

// CreateRequest asks for a new sandbox. Zero values take the server's defaults.
type CreateRequest struct {
	Name     string            `json:"name,omitempty"`
	Template string            `json:"template,omitempty"`  // default "base"
	VCPUs    int               `json:"vcpus,omitempty"`     // default 2
	MemoryMB int               `json:"memory_mb,omitempty"` // default 1024
	Env      map[string]string `json:"env,omitempty"`       // default environment of every exec
	Metadata map[string]string `json:"metadata,omitempty"`
	// IdleTimeout pauses the sandbox after this many seconds without
	// activity; nil takes the server's default (600), 0 never pauses.
	IdleTimeout *int `json:"idle_timeout,omitempty"`
	// Public makes the dev-server URLs open to anyone.
	Public bool `json:"public,omitempty"`
	// Ports to expose in addition to the defaults (3000, 3001, 5173, 8000, 8080).
	Ports []int `json:"ports,omitempty"`
	// Password lets SSH logins in with it (8-72 characters); registered
	// SSH keys of the team work either way.
	Password string `json:"password,omitempty"`
	// Egress limits where the sandbox may connect outside its team's
	// network; nil allows everything.
	Egress *Egress `json:"egress,omitempty"`
	// Disk is "durable" (the default: on the host, it outlives a crash and
	// a stop) or "ephemeral" (in the sandbox's memory: faster, gone with
	// its process).
	Disk string `json:"disk,omitempty"`
	// AutoStart: a use of the sandbox when it is stopped (exec, files,
	// SSH, its URLs) starts it; nil takes true.
	AutoStart *bool `json:"auto_start,omitempty"`
	// Labels are key=value pairs to find the sandbox by: keys NAME or
	// PREFIX/NAME, names and values up to 63 letters, digits, '-', '_'
	// and '.'; at most 64.
	Labels map[string]string `json:"labels,omitempty"`
	// Timeout is the sandbox's hard lifetime in seconds (0: none): when
	// it runs out the sandbox is destroyed, or paused if OnTimeout is
	// "pause".
	Timeout   int    `json:"timeout,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"` // "destroy" (the default) or "pause"
	// Volumes are the team's volumes to mount (see ParseVolumeMount).
	Volumes []VolumeMount `json:"volumes,omitempty"`
}

// Egress is a sandbox's egress policy. Deny rules win over allow rules,
// and allow rules over the default. Rules are IPv4 addresses, CIDRs or
// domains ("example.com" itself, "*.example.com" it and its subdomains).
// Link-local and metadata addresses, the host's own addresses and other
// teams' sandboxes are always denied; the team's own sandboxes always
// reachable.
type Egress struct {
	Default string   `json:"default,omitempty"` // "allow" (the default) or "deny"
	Allow   []string `json:"allow,omitempty"`
	Deny    []string `json:"deny,omitempty"`
}

// SSHKey is a public key the team's members log into its sandboxes with.
type SSHKey struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	PublicKey   string    `json:"public_key"`
	CreatedAt   time.Time `json:"created_at"`
}

// AddSSHKeyRequest registers a public key (authorized_keys format).
type AddSSHKeyRequest struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
}

// SSHAccess says how to reach a sandbox with ssh.
type SSHAccess struct {
	User    string `json:"user"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Command string `json:"command"` // e.g. "ssh sandbox-abc@host -p 2222"
	// HostKey is the gateway's public host key (authorized_keys format),
	// for a known_hosts line.
	HostKey string `json:"host_key,omitempty"`
}

// UpdateRequest changes a sandbox's settings; nil fields stay as they are.
type UpdateRequest struct {
	IdleTimeout *int  `json:"idle_timeout,omitempty"` // seconds; 0 never pauses
	Public      *bool `json:"public,omitempty"`
	AutoStart   *bool `json:"auto_start,omitempty"`
	// Timeout sets the hard lifetime to this many seconds from now; 0
	// removes it.
	Timeout   *int   `json:"timeout,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"` // "destroy" or "pause"; "" keeps it
	// Labels are set (added or changed), RemoveLabels removed.
	Labels       map[string]string `json:"labels,omitempty"`
	RemoveLabels []string          `json:"remove_labels,omitempty"`
}

// URL is a dev-server URL of a sandbox port.
type URL struct {
	Port int    `json:"port"`
	URL  string `json:"url"`
}

// PortRequest exposes a port.
type PortRequest struct {
	Port int `json:"port"`
}

// LinkRequest asks for a signed, expiring link to a private port.
type LinkRequest struct {
	Port int `json:"port"`
	TTL  int `json:"ttl_seconds,omitempty"` // default 3600
}

// Link is a signed URL that opens a private port until it expires.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SandboxEvent is one recorded change of a sandbox's state.
type SandboxEvent struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Why  string    `json:"why,omitempty"`
}

// ExecRequest runs a command in a sandbox.
type ExecRequest struct {
	Cmd        []string          `json:"cmd"`
	Env        map[string]string `json:"env,omitempty"`
	Cwd        string            `json:"cwd,omitempty"`
	User       string            `json:"user,omitempty"`
	TimeoutMS  int64             `json:"timeout_ms,omitempty"`
	Stdin      []byte            `json:"stdin,omitempty"`
	Background bool              `json:"background,omitempty"`
	// StdinOpen keeps a background process's stdin open: write to it
	// with SendStdin while it runs, end it with CloseStdin. Not with Stdin.
	StdinOpen bool `json:"stdin_open,omitempty"`
}

// AttachRequest runs a command attached to a WebSocket (Sandbox.Attach,
// GET /v1/sandboxes/{ref}/exec/attach): its stdin streams from the caller
// while it runs. Cmd, Env, Cwd, User and TimeoutMS mean what they mean in
// ExecRequest.
type AttachRequest struct {
	Cmd       []string          `json:"cmd"`
	Env       map[string]string `json:"env,omitempty"`
	Cwd       string            `json:"cwd,omitempty"`
	User      string            `json:"user,omitempty"`
	TimeoutMS int64             `json:"timeout_ms,omitempty"`
	// TTY runs the command on a terminal of Cols x Rows (default 80 x
	// 24): its stdout and stderr are one stream, and ^C, ^Z and ^D typed
	// as stdin act as they do at a terminal.
	TTY  bool   `json:"tty,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
}

// AttachMessage is a text message of an exec attach WebSocket. The caller
// sends "resize" (Cols, Rows), "eof" (the end of stdin) and "signal"
// (Signal); the server sends "start" once the command is handed to the
// sandbox, "error" (Message; Code too when the request itself failed,
// after which the connection closes) and, last, "exit" (ExitCode,
// TimedOut).
type AttachMessage struct {
	Type     string `json:"type"`
	Cols     uint16 `json:"cols,omitempty"`
	Rows     uint16 `json:"rows,omitempty"`
	Signal   string `json:"signal,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message,omitempty"`
}

// Types of AttachMessage the caller sends; the server's are EventStart,
// EventError and EventExit.
const (
	AttachResize = "resize"
	AttachEOF    = "eof"
	AttachSignal = "signal"
)

// The first byte of each binary message the server sends on an exec
// attach WebSocket: which stream the rest of it belongs to. On a TTY all
// output is StreamStdout.
const (
	StreamStdout byte = 1
	StreamStderr byte = 2
)

// ExecResult is the collected outcome of a command.
type ExecResult struct {
	Stdout   []byte `json:"stdout"`
	Stderr   []byte `json:"stderr"`
	ExitCode int    `json:"exit_code"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Error    string `json:"error,omitempty"` // set when the command could not start
}

// Event types of an exec or process output stream.
const (
	EventStart  = wire.EventStart
	EventStdout = wire.EventStdout
	EventStderr = wire.EventStderr
	EventExit   = wire.EventExit
	EventError  = wire.EventError
)

// Event is one line of a streamed exec (application/x-ndjson).
type Event = wire.Event

// Process is a process started in a sandbox through the API.
type Process = wire.Process

// FileInfo describes a file inside a sandbox.
type FileInfo = wire.FileInfo

// Team owns sandboxes, names, keys and SSH keys.
type Team struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	CreatedAt time.Time   `json:"created_at"`
	Limits    *TeamLimits `json:"limits,omitempty"` // what the team may use; 0: no limit
}

// APIKey describes a key. Secret is set only in the answer that created it.
type APIKey struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Team      string    `json:"team"`
	Admin     bool      `json:"admin"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"`
}

// CreateKeyRequest asks for a new API key.
type CreateKeyRequest struct {
	Name  string `json:"name"`
	Team  string `json:"team,omitempty"`  // default: the caller's team; another team needs an admin key
	Admin bool   `json:"admin,omitempty"` // needs an admin key
}

// Identity answers GET /v1/me.
type Identity struct {
	Team  string `json:"team"`
	Key   string `json:"key"`
	Admin bool   `json:"admin"`
}

// ErrorBody is the JSON body of every error answer. Quota is set when a
// team's quota refused the request (code resource_exhausted).
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Quota   *Quota `json:"quota,omitempty"`
	} `json:"error"`
}

// Snapshot is a saved image of a sandbox's memory and disk.
type Snapshot struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	SizeBytes int64     `json:"size_bytes"`
	Pinned    bool      `json:"pinned,omitempty"` // kept by the server's snapshot cap
	CreatedAt time.Time `json:"created_at"`
}

// SnapshotRequest names a new snapshot ("" lets the server pick a name).
// Pin keeps it when the server's cap (--max-snapshots) removes a
// sandbox's oldest snapshots.
type SnapshotRequest struct {
	Name string `json:"name,omitempty"`
	Pin  bool   `json:"pin,omitempty"`
}

// RollbackRequest names the snapshot to return to ("" = the latest).
type RollbackRequest struct {
	Snapshot string `json:"snapshot,omitempty"`
}

// ForkRequest makes a new sandbox from a snapshot ("" = the current state).
type ForkRequest struct {
	Name     string `json:"name,omitempty"`
	Snapshot string `json:"snapshot,omitempty"`
}
