package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/sshgate"
	"github.com/runtools/runtools/internal/store"
)

// sshCluster is what the SSH gateway of a cluster's node needs to serve
// the sandboxes other nodes run: the host key every node shares, and the
// key one node logs in to another's gateway with, for any sandbox it
// names. Both are derived from the cluster secret.
type sshCluster struct {
	self    string
	hostKey ssh.Signer
	nodeKey ssh.Signer
	peers   *peers
}

// newSSHCluster derives the cluster's SSH keys; nil on a single host.
func newSSHCluster(ctx context.Context, cfg Config, st *store.Store) (*sshCluster, error) {
	if cfg.Cluster == "" {
		return nil, nil
	}
	secret, err := st.ClusterSecret(ctx)
	if err != nil {
		return nil, err
	}
	derive := func(what string) (ssh.Signer, error) {
		return ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(cluster.DeriveKey(secret, what)))
	}
	c := &sshCluster{self: cfg.Node.Name, peers: &peers{st: st}}
	if c.hostKey, err = derive("runtools ssh host key"); err != nil {
		return nil, err
	}
	if c.nodeKey, err = derive("runtools ssh node key"); err != nil {
		return nil, err
	}
	return c, nil
}

// isNodeKey reports whether key is the one nodes log in to each other with.
func (c *sshCluster) isNodeKey(key ssh.PublicKey) bool {
	return c != nil && subtle.ConstantTimeCompare(key.Marshal(), c.nodeKey.PublicKey().Marshal()) == 1
}

// dial logs in to the gateway of the node that runs sb, as sb.
func (c *sshCluster) dial(ctx context.Context, sb *sandbox.Sandbox) (*ssh.Client, error) {
	n, err := c.peers.get(ctx, sb.Node)
	if err != nil {
		return nil, err
	}
	if n.SSHAddr == "" {
		return nil, fmt.Errorf("%w: sandbox %s runs on node %s, which serves no SSH (--ssh-listen)", errdefs.ErrUnavailable, sb.ID, n.Name)
	}
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", n.SSHAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: node %s, which runs sandbox %s, does not answer: %v", errdefs.ErrUnavailable, n.Name, sb.ID, err)
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, n.SSHAddr, &ssh.ClientConfig{
		User: sb.ID, Auth: []ssh.AuthMethod{ssh.PublicKeys(c.nodeKey)},
		HostKeyCallback: ssh.FixedHostKey(c.hostKey.PublicKey()), Timeout: 10 * time.Second,
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: logging in to node %s for sandbox %s: %v", errdefs.ErrUnavailable, n.Name, sb.ID, err)
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

// remoteSandbox is a sandbox another node runs, reached through that
// node's SSH gateway: what this gateway's client asks is asked there.
type remoteSandbox struct{ c *ssh.Client }

func (r remoteSandbox) Attach(ctx context.Context, a sshgate.Attach) (sshgate.Session, error) {
	s, err := r.c.NewSession()
	if err != nil {
		return nil, err
	}
	rs := &remoteSession{s: s}
	if err := rs.start(a); err != nil {
		s.Close()
		return nil, err
	}
	return rs, nil
}

func (r remoteSandbox) SFTP(ctx context.Context) (io.ReadWriteCloser, error) {
	s, err := r.c.NewSession()
	if err != nil {
		return nil, err
	}
	in, err1 := s.StdinPipe()
	out, err2 := s.StdoutPipe()
	if err := errors.Join(err1, err2); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		s.Close()
		return nil, err
	}
	return stream{Reader: out, Writer: in, close: s.Close}, nil
}

func (r remoteSandbox) Dial(ctx context.Context, port int) (net.Conn, error) {
	return r.c.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// stream is an SFTP subsystem's channel as one io.ReadWriteCloser.
type stream struct {
	io.Reader
	io.Writer
	close func() error
}

func (s stream) Close() error { return s.close() }

// remoteSession is a process started through another node's gateway.
type remoteSession struct {
	s              *ssh.Session
	stdin          io.WriteCloser
	stdout, stderr io.Reader
}

// start asks for the session the gateway's Attach describes: the login
// shell, or the command of an exec (which that gateway runs with sh -c).
func (rs *remoteSession) start(a sshgate.Attach) error {
	for k, v := range a.Env {
		_ = rs.s.Setenv(k, v) // what that gateway refuses, this one would have refused too
	}
	if a.TTY {
		if err := rs.s.RequestPty(a.Term, int(a.Rows), int(a.Cols), ssh.TerminalModes{}); err != nil {
			return err
		}
	}
	var err1, err2, err3 error
	rs.stdin, err1 = rs.s.StdinPipe()
	rs.stdout, err2 = rs.s.StdoutPipe()
	rs.stderr, err3 = rs.s.StderrPipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	switch {
	case len(a.Cmd) == 0:
		return rs.s.Shell()
	case len(a.Cmd) == 3 && a.Cmd[0] == "/bin/sh" && a.Cmd[1] == "-c":
		return rs.s.Start(a.Cmd[2])
	default:
		return rs.s.Start(shellQuote(a.Cmd))
	}
}

func (rs *remoteSession) Stdout() io.Reader           { return rs.stdout }
func (rs *remoteSession) Stderr() io.Reader           { return rs.stderr }
func (rs *remoteSession) Write(p []byte) (int, error) { return rs.stdin.Write(p) }
func (rs *remoteSession) CloseStdin() error           { return rs.stdin.Close() }
func (rs *remoteSession) Resize(cols, rows uint16) error {
	return rs.s.WindowChange(int(rows), int(cols))
}
func (rs *remoteSession) Signal(name string) error { return rs.s.Signal(ssh.Signal(name)) }
func (rs *remoteSession) StartError() string       { return "" }
func (rs *remoteSession) Close() error             { return rs.s.Close() }

// Wait returns the exit code the other gateway sent.
func (rs *remoteSession) Wait() (int, error) {
	err := rs.s.Wait()
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus(), nil
	}
	return 0, err
}

// shellQuote joins argv into one sh command line.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
