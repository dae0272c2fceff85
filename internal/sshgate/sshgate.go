// Package sshgate is the SSH gateway: it lets people reach any sandbox with
// the ssh, scp and sftp clients they already have (ssh sandbox-abc123@HOST
// -p 2222), authenticates them by public key or sandbox password through a
// Backend, and carries shells, commands, SFTP and local port forwards (-L)
// to the sandbox's agent.
package sshgate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxAuthTries = 6
	DefaultPasswordRate = 10 // attempts per minute, per source and per user
	passwordBurst       = 5
)

// serverVersion is announced in the SSH handshake.
const serverVersion = "SSH-2.0-runtools"

// Config is what the daemon tells the gateway.
type Config struct {
	// HostKeyPath is the ed25519 host key, generated (mode 0600) on the
	// first start and kept, so clients see the same host key every time.
	HostKeyPath string
	// HostKey, if set, is the host key instead: the one every node of a
	// cluster shares, so clients see one host whichever node they reach.
	HostKey ssh.Signer
	// MaxAuthTries bounds the failed authentication attempts on one
	// connection; default DefaultMaxAuthTries.
	MaxAuthTries int
	// PasswordRate is the number of password attempts per minute allowed
	// per source address (per /64 for IPv6) and per user name, each in a
	// token bucket holding at most 5; default DefaultPasswordRate.
	PasswordRate float64
	// ReservedPorts are never forwarded (-L), whatever the request: the
	// daemon passes the agent's port.
	ReservedPorts []int
	// Observer, if set, is told about connections and traffic.
	Observer Observer
}

// Target is a sandbox a login may open.
type Target struct {
	SandboxID, TeamID string
}

// Backend authenticates logins and opens sandboxes. It is implemented by the
// daemon. The gateway caches nothing it answers: a revoked key or a changed
// password takes effect at the next login.
type Backend interface {
	// KeyLogin reports whether key is registered by a member of the team
	// owning the sandbox named user (an ID, or a name within the key's
	// team(s)). It returns errdefs.ErrNotFound or
	// errdefs.ErrPermissionDenied otherwise.
	KeyLogin(ctx context.Context, user string, key ssh.PublicKey) (Target, error)
	// PasswordLogin reports whether password is the password of the
	// sandbox named user (an ID or a name). It compares in constant time
	// against a hash, and should spend the same time on an unknown sandbox
	// (a dummy hash) as on a wrong password; the gateway also pads every
	// failure to a fixed minimum duration.
	PasswordLogin(ctx context.Context, user, password string) (Target, error)
	// Open wakes the sandbox if it is paused and returns its agent; done is
	// called when the SSH connection ends (the sandbox counts as busy
	// until then).
	Open(ctx context.Context, t Target) (sb Sandbox, done func(), err error)
}

// Sandbox is the agent of one opened sandbox.
type Sandbox interface {
	// Attach starts a process attached to a stream, on a PTY if req.TTY.
	Attach(ctx context.Context, req Attach) (Session, error)
	// SFTP opens a stream to an SFTP server inside the sandbox.
	SFTP(ctx context.Context) (io.ReadWriteCloser, error)
	// Dial opens a TCP connection to a port inside the sandbox.
	Dial(ctx context.Context, port int) (net.Conn, error)
}

// Attach describes a process to start for an SSH session.
type Attach struct {
	Cmd        []string // empty: the login shell
	Env        map[string]string
	TTY        bool
	Cols, Rows uint16
	Term       string
}

// Session is a process started by Sandbox.Attach.
type Session interface {
	Stdout() io.Reader
	Stderr() io.Reader // empty with a TTY
	Write(p []byte) (int, error)
	CloseStdin() error
	Resize(cols, rows uint16) error
	Signal(name string) error
	// Wait returns the exit code once the process has ended and its
	// output has been delivered to Stdout and Stderr.
	Wait() (int, error)
	// StartError says why the process could not start, or "".
	StartError() string
	Close() error
}

// Gateway is the SSH server.
type Gateway struct {
	backend  Backend
	log      *slog.Logger
	hostKey  ssh.Signer
	maxTries int
	reserved map[int]bool
	obs      Observer // nil: none

	bySource, byUser *limiter
	startups         *startups

	// Durations, fixed in production; tests shorten them.
	passwordFloor time.Duration // every failed password attempt takes at least this long
	keyFloor      time.Duration // every refused public key takes at least this long
	loginGrace    time.Duration // to finish the handshake and authentication
	keepAlive     time.Duration // between keepalive@openssh.com requests
	keepAliveMax  int           // unanswered keep-alives before the connection is dropped
}

// Production values of the Gateway's durations and limits.
const (
	passwordFloor    = 300 * time.Millisecond
	keyFloor         = 30 * time.Millisecond
	loginGrace       = 2 * time.Minute
	keepAlive        = 30 * time.Second
	keepAliveMax     = 3
	backendTimeout   = 15 * time.Second // for KeyLogin and PasswordLogin
	openTimeout      = time.Minute      // for Open, which may restore a paused sandbox
	dialTimeout      = 10 * time.Second
	openFailureGrace = 5 * time.Second // to tell the client why its sandbox could not be opened
	maxSessions      = 10              // session channels open at once on one connection, as OpenSSH's MaxSessions
	maxForwards      = 1024            // direct-tcpip channels open at once on one connection
)

// New returns a gateway with the host key at cfg.HostKeyPath, which it
// makes if the file does not exist.
func New(cfg Config, b Backend, log *slog.Logger) (*Gateway, error) {
	if b == nil {
		return nil, fmt.Errorf("ssh gateway: no backend: %w", errdefs.ErrInvalidArgument)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sshgate")
	if cfg.MaxAuthTries <= 0 { // a negative value means unlimited to x/crypto: never that
		cfg.MaxAuthTries = DefaultMaxAuthTries
	}
	if cfg.PasswordRate <= 0 {
		cfg.PasswordRate = DefaultPasswordRate
	}
	reserved := make(map[int]bool, len(cfg.ReservedPorts))
	for _, p := range cfg.ReservedPorts {
		reserved[p] = true
	}
	key := cfg.HostKey
	if key == nil {
		var err error
		if key, err = loadOrCreateHostKey(cfg.HostKeyPath, log); err != nil {
			return nil, err
		}
	}
	return &Gateway{
		backend:       b,
		log:           log,
		hostKey:       key,
		maxTries:      cfg.MaxAuthTries,
		reserved:      reserved,
		obs:           cfg.Observer,
		bySource:      newLimiter(cfg.PasswordRate/60, passwordBurst),
		byUser:        newLimiter(cfg.PasswordRate/60, passwordBurst),
		startups:      newStartups(maxStartupsPerSource, maxStartups),
		passwordFloor: passwordFloor,
		keyFloor:      keyFloor,
		loginGrace:    loginGrace,
		keepAlive:     keepAlive,
		keepAliveMax:  keepAliveMax,
	}, nil
}

// HostKey returns the gateway's public host key, for known_hosts lines.
func (g *Gateway) HostKey() ssh.PublicKey { return g.hostKey.PublicKey() }

// Serve accepts SSH connections on ln until ctx ends, then closes ln and
// every connection and waits for their handlers. It returns nil after a
// shutdown caused by ctx, else the error that stopped it.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	g.log.InfoContext(ctx, "serving SSH", "addr", ln.Addr().String(),
		"host_key", ssh.FingerprintSHA256(g.HostKey()))
	var wg sync.WaitGroup
	defer wg.Wait()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if temporaryAcceptError(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				g.log.WarnContext(ctx, "accepting SSH connections", "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return nil
				}
			}
			cancel()
			return fmt.Errorf("serving SSH on %s: %w", ln.Addr(), err)
		}
		backoff = 0
		wg.Go(func() { g.serveConn(ctx, nc) })
	}
}
