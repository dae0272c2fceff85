// Package ssh is the SSH gateway section: `ssh ID@host true`, login to a
// shell prompt, and file transfers with scp against the HTTP files API,
// all with the real OpenSSH client.
package ssh

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/sections/compare"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Config is what the section is told.
type Config struct {
	Runs      int // `ssh ID@host true` runs; 0 leaves the section out
	LoginRuns int // login-to-prompt runs; 0 leaves them out
	ScpRuns   int // file transfer rounds; 0 leaves them out
	ScpMB     int // MiB of the file the rounds copy
	Template  string
}

// Section is the SSH gateway section.
type Section struct {
	Config Config
	// Exec is the exec section, whose runtools exec is shown for
	// comparison; it may not have run.
	Exec *compare.Exec

	SSHTrue, Login stats.Samples
	Transfer       Transfer
	Version        string // ssh -V
	Skipped        string // why it did not run, if it did not
	Took           time.Duration
}

var _ section.Section = (*Section)(nil)

// Name is "ssh".
func (s *Section) Name() string { return "ssh" }

// Run measures, unless -ssh-runs=0 left the section out; a failure is
// reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	s.Version = "OpenSSH"
	s.Transfer = Transfer{Runs: s.Config.ScpRuns, MB: s.Config.ScpMB}
	return section.Optional(ctx, "SSH gateway", s.Config.Runs == 0, "-ssh-runs=0", &s.Skipped,
		func() error { return s.measure(ctx, env) })
}

// measure creates a sandbox and measures, with OpenSSH: `ssh ID@host
// true`, the time from starting `ssh -tt` until the shell's prompt, and
// file transfers. The sandbox is removed after, and by undo on failure.
func (s *Section) measure(ctx context.Context, env *section.Env) error {
	cfg, srv := s.Config, env.Server
	t := time.Now()
	fmt.Fprintln(os.Stderr, "starting the sandbox for SSH")
	sb, remove, err := env.Idle(ctx, cfg.Template, "the SSH sandbox")
	if err != nil {
		return err
	}
	u, err := newSSHUser(ctx, env.Undo, srv, sb.ID)
	if err != nil {
		return err
	}
	if v, err := exec.CommandContext(ctx, "ssh", "-V").CombinedOutput(); err == nil {
		s.Version = strings.TrimSpace(string(v))
	}
	if err := s.measureLogins(ctx, u); err != nil {
		return err
	}
	if cfg.ScpRuns == 0 {
		s.Transfer.Skipped = "left out with -scp-runs=0"
	} else if s.Transfer, err = measureTransfers(ctx, srv, u, s.Transfer); err != nil {
		if ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "\nbench: the file transfers failed: %v\n", err)
		s.Transfer.Skipped = "failed: " + err.Error()
	}
	s.Took = time.Since(t)
	return remove(ctx)
}

// measureLogins times `ssh ID@host true` and the login to a prompt, after
// one uncounted login that accepts the gateway's host key.
func (s *Section) measureLogins(ctx context.Context, u *sshUser) error {
	if err := u.sshTrue(ctx); err != nil {
		return fmt.Errorf("first SSH login: %w", err)
	}
	for i := range s.Config.Runs {
		if err := measure.Settle(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		if err := u.sshTrue(ctx); err != nil {
			return err
		}
		s.SSHTrue = append(s.SSHTrue, time.Since(t0))
		measure.Progress("ssh true", i, 0, s.Config.Runs)
	}
	for i := range s.Config.LoginRuns {
		if err := measure.Settle(ctx); err != nil {
			return err
		}
		d, err := u.loginToPrompt(ctx)
		if err != nil {
			return err
		}
		s.Login = append(s.Login, d)
		measure.Progress("ssh login to prompt", i, 0, s.Config.LoginRuns)
	}
	return nil
}

// sshUser is an OpenSSH identity of the bench's own: a key pair registered
// with the server and a known_hosts file, in a directory of its own.
type sshUser struct {
	dir, key   string
	login      string // the sandbox ID
	host, port string // the gateway
}

// opts are the options every ssh and scp call gets: no user config, the
// bench's known_hosts, its key only, and no prompts.
func (u *sshUser) opts() []string {
	return []string{"-F", "/dev/null",
		"-o", "UserKnownHostsFile=" + filepath.Join(u.dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR",
		"-i", u.key}
}

// sshArgs are the arguments of ssh for a login into the sandbox; extra go
// before the defaults, as ssh keeps an option's first value.
func (u *sshUser) sshArgs(extra ...string) []string {
	return append(append(extra, u.opts()...), "-p", u.port, u.login+"@"+u.host)
}

// remote is an scp operand for path in the sandbox.
func (u *sshUser) remote(path string) string { return u.login + "@" + u.host + ":" + path }

// newSSHUser makes a key pair in a new directory, registers its public
// key and undoes both with undo.
func newSSHUser(ctx context.Context, undo *host.Undo, srv *server.Server, login string) (*sshUser, error) {
	for _, tool := range []string{"ssh", "scp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s: %w (apt install openssh-client)", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "runtools-bench-ssh-")
	if err != nil {
		return nil, fmt.Errorf("making a directory for the SSH key: %w", err)
	}
	undo.Push("remove "+dir, func(context.Context) error { return os.RemoveAll(dir) })
	h, port, err := net.SplitHostPort(srv.SSHAddr)
	if err != nil {
		return nil, fmt.Errorf("the SSH gateway's address %q: %w", srv.SSHAddr, err)
	}
	u := &sshUser{dir: dir, key: filepath.Join(dir, "id"), login: login, host: h, port: port}
	if _, err := host.Command(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "runtools-bench", "-f", u.key); err != nil {
		return nil, err
	}
	pub, err := os.ReadFile(u.key + ".pub")
	if err != nil {
		return nil, fmt.Errorf("reading the bench's public key: %w", err)
	}
	k, err := srv.Client.AddSSHKey(ctx, "bench", strings.TrimSpace(string(pub)))
	if err != nil {
		return nil, fmt.Errorf("registering the bench's SSH key: %w", err)
	}
	undo.Push("remove the bench's SSH key", func(ctx context.Context) error { return srv.Client.RemoveSSHKey(ctx, k.ID) })
	return u, nil
}

// sshTrue runs `true` in the sandbox over a new SSH connection.
func (u *sshUser) sshTrue(ctx context.Context) error {
	_, err := host.Command(ctx, "ssh", append(u.sshArgs(), "true")...)
	return err
}
