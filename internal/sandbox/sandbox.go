// Package sandbox is the domain core of runtools: what a sandbox is, the
// states it moves through, and the Manager that creates, runs, watches and
// destroys sandboxes through the small interfaces it owns (Runtime, Store,
// Network, Templates).
package sandbox

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/runtools/runtools/internal/egress"
	"github.com/runtools/runtools/internal/errdefs"
)

// State is where a sandbox is in its life.
type State string

// States. creating → running ⇄ (pausing → paused → resuming); running or
// paused → stopped (by stop, or a crash: processes ended, disk kept) →
// running again by start; any → stopping → destroyed (gone, its record
// kept for history). error is where a sandbox that can neither run nor be
// restored ends up, with the reason; destroy works from every state.
const (
	Creating  State = "creating"
	Running   State = "running"
	Pausing   State = "pausing"
	Paused    State = "paused"
	Resuming  State = "resuming"
	Stopping  State = "stopping"
	Stopped   State = "stopped"
	Destroyed State = "destroyed"
	Error     State = "error"
)

// Reasons a sandbox stopped.
const (
	ReasonDestroyed   = "destroyed"
	ReasonOOM         = "oom"
	ReasonCrashed     = "crashed"
	ReasonCreateFail  = "create_failed"
	ReasonInterrupted = "interrupted"
	ReasonLost        = "lost"
	ReasonRestoreFail = "restore_failed"
	ReasonStopped     = "stopped"        // on request
	ReasonHostRestart = "host restarted" // every sandbox stopped with the host
	ReasonTimeout     = "timeout"        // its hard lifetime (--timeout) ran out
	ReasonPausedTTL   = "paused_ttl"     // it stayed paused longer than the server's paused TTL
	ReasonNodeLost    = "node lost"      // the cluster node that ran it stopped renewing its lease
)

// DefaultIdleTimeout is how long a sandbox may sit idle before it is paused.
const DefaultIdleTimeout = 10 * time.Minute

// Sandbox is one isolated machine and everything recorded about it.
type Sandbox struct {
	ID           string
	TeamID       string
	Name         string
	Template     string
	State        State
	StopReason   string // why it stopped or failed (Reason*), with detail after ": "
	VCPUs        int
	MemoryMB     int
	DiskMB       int
	Disk         string // DiskDurable or DiskEphemeral
	AutoStart    bool   // a use of it when stopped starts it
	IP           netip.Addr
	Secret       string        // the agent's bearer token
	NextSecret   string        // a token being given to the agent; either may be live after a crash
	IdleTimeout  time.Duration // 0: never paused for being idle
	Env          map[string]string
	Metadata     map[string]string
	Public       bool              // its dev-server URLs need no access token
	Ports        []int             // ports reachable through the dev-server URLs, sorted
	AccessToken  string            // opens its private dev-server URLs
	PasswordHash string            // bcrypt hash of its SSH password, "" for none
	Desktop      bool              // runs the desktop's services (from its template): VNC on DesktopPort
	Egress       egress.Policy     // where it may connect outside its team's network (normalized)
	Labels       map[string]string // the user's key=value labels, for filters (ValidateLabels)
	Volumes      []VolumeMount     // the team's volumes it mounts
	Node         string            // the server (node of a cluster) that runs it
	Image        string            // paused: the key of its image in the cluster's object store, once stored
	// TimeoutAt is when its hard lifetime ends (zero: never); then it is
	// destroyed, or paused if OnTimeout is OnTimeoutPause. TimeoutWarned
	// says the warning event for this TimeoutAt was recorded.
	TimeoutAt     time.Time
	OnTimeout     string
	TimeoutWarned bool
	PausedAt      time.Time // when it was last paused: the paused TTL counts from it
	CreatedAt     time.Time
	StartedAt     time.Time
	StoppedAt     time.Time

	// Why is the reason of the transition being saved (not stored on the
	// sandbox itself, but with the event that records the transition).
	Why string
}

// Event is one recorded transition of a sandbox.
type Event struct {
	Seq       int64 // increases with every event of every sandbox
	SandboxID string
	At        time.Time
	From, To  State
	Why       string
}

// Live reports whether the sandbox still exists: it holds its name and
// address until it is destroyed.
func (s *Sandbox) Live() bool { return s.State != Destroyed }

var (
	idPattern   = regexp.MustCompile(`^sandbox-[a-z0-9]{8,32}$`)
	namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// IsID reports whether s has the shape of a sandbox ID.
func IsID(s string) bool { return idPattern.MatchString(s) }

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns "sandbox-" and 12 random lowercase letters and digits.
func NewID() string {
	return "sandbox-" + randomString(12)
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// NewSecret returns a random 256-bit token for the sandbox's agent.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return fmt.Sprintf("%x", b)
}

// ValidateName checks a user-chosen sandbox name.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w: name %q must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit", errdefs.ErrInvalidArgument, name)
	}
	if IsID(name) {
		return fmt.Errorf("%w: name %q looks like a sandbox ID; choose another", errdefs.ErrInvalidArgument, name)
	}
	return nil
}

// Snapshot is a saved image of a sandbox's memory and disk.
type Snapshot struct {
	ID        string
	SandboxID string
	TeamID    string
	Name      string
	Ready     bool // false while it is being written
	Size      int64
	Secret    string // the agent token the image holds
	Pinned    bool   // kept when the sandbox's snapshot cap removes the oldest
	CreatedAt time.Time
}

// NewSnapshotID returns "snap-" and 12 random lowercase letters and digits.
func NewSnapshotID() string { return "snap-" + randomString(12) }
