package daemon

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/sshgate"
	"github.com/runtools/runtools/internal/store"
)

// startSSH serves the SSH gateway on cfg.SSH.Listen until ctx ends, and
// returns the host and port users are told to connect to.
func startSSH(ctx context.Context, cfg Config, mgr *sandbox.Manager, st *store.Store, obs sshgate.Observer, log *slog.Logger) (host string, port int, hostKey string, err error) {
	sc, err := newSSHCluster(ctx, cfg, st)
	if err != nil {
		return "", 0, "", err
	}
	gcfg := sshgate.Config{HostKeyPath: cfg.path("ssh_host_ed25519_key"), ReservedPorts: []int{agentapi.Port}, Observer: obs}
	if sc != nil {
		gcfg.HostKey = sc.hostKey
	}
	gw, err := sshgate.New(gcfg, sshBackend{mgr: mgr, st: st, cluster: sc}, log)
	if err != nil {
		return "", 0, "", err
	}
	ln, err := net.Listen("tcp", cfg.SSH.Listen)
	if err != nil {
		return "", 0, "", fmt.Errorf("listening on %s for the SSH gateway: %w (change --ssh-listen, or set it to \"\" to turn SSH off)", cfg.SSH.Listen, err)
	}
	go func() {
		if err := gw.Serve(ctx, ln); err != nil {
			log.Error("SSH gateway stopped", "err", err)
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	host = cfg.SSH.Host
	if host == "" {
		host = "localhost"
		if h, _, err := net.SplitHostPort(cfg.SSH.Listen); err == nil && h != "" {
			if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
				host = h
			}
		}
	}
	hostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(gw.HostKey())))
	return host, addr.Port, hostKey, nil
}

// sshBackend decides SSH logins from the store, and opens sandboxes
// through the manager, which wakes paused ones and counts the connection
// as activity; in a cluster, through the gateway of the node that runs
// them.
type sshBackend struct {
	mgr     *sandbox.Manager
	st      *store.Store
	cluster *sshCluster // nil on a single host
}

var _ sshgate.Backend = sshBackend{}

// errLogin is every refusal: the gateway tells the client nothing more.
var errLogin = fmt.Errorf("%w: no such sandbox or wrong credentials", errdefs.ErrPermissionDenied)

// dummyHash keeps a password login to an unknown sandbox, or one without a
// password, as slow as a wrong password. Made on first use: bcrypt is slow
// on purpose, and the CLI shares this binary.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("runtools: no such sandbox"), bcrypt.DefaultCost)
	return h
})

// loginName reports whether user can name a sandbox: an ID or a valid
// name. Anything else, "" included, would match unnamed sandboxes or
// nothing at all.
func loginName(user string) bool {
	return sandbox.IsID(user) || sandbox.ValidateName(user) == nil
}

// KeyLogin accepts key for sandbox user (an ID, or a name in a team that
// registered the key) if a member of the sandbox's team registered it.
func (b sshBackend) KeyLogin(ctx context.Context, user string, key ssh.PublicKey) (sshgate.Target, error) {
	if !loginName(user) {
		return sshgate.Target{}, errLogin
	}
	if b.cluster.isNodeKey(key) {
		// Another node relays a login it checked, to a sandbox this one runs.
		if sb, err := b.st.GetSandbox(ctx, user); err == nil && sb.Live() && sb.Node == b.cluster.self {
			return sshgate.Target{SandboxID: sb.ID, TeamID: sb.TeamID}, nil
		}
		return sshgate.Target{}, errLogin
	}
	keys, err := b.st.SSHKeysByFingerprint(ctx, ssh.FingerprintSHA256(key))
	if err != nil {
		return sshgate.Target{}, err
	}
	wire := key.Marshal()
	for _, k := range keys {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
		if err != nil || subtle.ConstantTimeCompare(pub.Marshal(), wire) != 1 {
			continue // a fingerprint collision, or a key stored damaged
		}
		sb, err := b.st.FindSandbox(ctx, k.TeamID, user)
		if err == nil && sb.Live() {
			return sshgate.Target{SandboxID: sb.ID, TeamID: sb.TeamID}, nil
		}
	}
	return sshgate.Target{}, errLogin
}

// PasswordLogin accepts password for sandbox user (an ID, or a name: of
// the sandboxes with that name, the one whose password it is).
func (b sshBackend) PasswordLogin(ctx context.Context, user, password string) (sshgate.Target, error) {
	var candidates []*sandbox.Sandbox
	if sandbox.IsID(user) {
		if sb, err := b.st.GetSandbox(ctx, user); err == nil && sb.Live() {
			candidates = append(candidates, sb)
		}
	} else if !loginName(user) {
		// No candidates: the dummy hash below keeps the refusal as slow.
	} else if list, err := b.st.FindByName(ctx, user); err == nil {
		candidates = list
	}
	checked := false
	for _, sb := range candidates {
		if sb.PasswordHash == "" {
			continue
		}
		checked = true
		if bcrypt.CompareHashAndPassword([]byte(sb.PasswordHash), []byte(password)) == nil {
			return sshgate.Target{SandboxID: sb.ID, TeamID: sb.TeamID}, nil
		}
	}
	if !checked {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
	}
	return sshgate.Target{}, errLogin
}

// Open wakes the sandbox if it is paused; it counts as busy until done.
func (b sshBackend) Open(ctx context.Context, t sshgate.Target) (sshgate.Sandbox, func(), error) {
	if b.cluster != nil {
		sb, err := b.st.GetSandbox(ctx, t.SandboxID)
		if err != nil {
			return nil, nil, err
		}
		if sb.Node != b.cluster.self {
			c, err := b.cluster.dial(ctx, sb)
			if err != nil {
				return nil, nil, err
			}
			return remoteSandbox{c}, func() { c.Close() }, nil
		}
	}
	s, err := b.mgr.Open(ctx, t.TeamID, t.SandboxID)
	if err != nil {
		return nil, nil, err
	}
	return sshSandbox{s}, s.Close, nil
}

// sshSandbox gives the gateway a session on a sandbox's agent.
type sshSandbox struct{ s *sandbox.Session }

func (s sshSandbox) Attach(ctx context.Context, a sshgate.Attach) (sshgate.Session, error) {
	return s.s.Attach(ctx, agentapi.AttachRequest{Cmd: a.Cmd, Env: a.Env, TTY: a.TTY, Cols: a.Cols, Rows: a.Rows, Term: a.Term})
}

func (s sshSandbox) SFTP(ctx context.Context) (io.ReadWriteCloser, error) {
	return sandbox.Stream(ctx, s.s, func(ctx context.Context, ag *agentclient.Client) (io.ReadWriteCloser, error) {
		return ag.SFTP(ctx, "root")
	})
}

// Dial reaches port on the sandbox's loopback, as ssh -L localhost:PORT
// means: a dev server listening on localhost only is reached too.
func (s sshSandbox) Dial(ctx context.Context, port int) (net.Conn, error) {
	return sandbox.Stream(ctx, s.s, func(ctx context.Context, ag *agentclient.Client) (net.Conn, error) {
		return ag.Forward(ctx, port)
	})
}
