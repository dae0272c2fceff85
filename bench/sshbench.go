package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
)

// sshSection is what the SSH gateway measurements found, with the real
// OpenSSH client.
type sshSection struct {
	trueRuns, loginRuns int
	sshTrue, login      samples
	transfer            transferSection
	version             string // ssh -V
	skipped             string // why it did not run, if it did not
	took                time.Duration
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
	a := append(append(extra, u.opts()...), "-p", u.port, u.login+"@"+u.host)
	return a
}

// remote is an scp operand for path in the sandbox.
func (u *sshUser) remote(path string) string { return u.login + "@" + u.host + ":" + path }

// newSSHUser makes a key pair in a new directory, registers its public
// key and undoes both with undo.
func newSSHUser(ctx context.Context, undo *undoStack, srv *server, login string) (*sshUser, error) {
	for _, tool := range []string{"ssh", "scp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s: %w (apt install openssh-client)", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "runtools-bench-ssh-")
	if err != nil {
		return nil, fmt.Errorf("making a directory for the SSH key: %w", err)
	}
	undo.push("remove "+dir, func(context.Context) error { return os.RemoveAll(dir) })
	host, port, err := net.SplitHostPort(srv.sshAddr)
	if err != nil {
		return nil, fmt.Errorf("the SSH gateway's address %q: %w", srv.sshAddr, err)
	}
	u := &sshUser{dir: dir, key: filepath.Join(dir, "id"), login: login, host: host, port: port}
	if _, err := command(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "runtools-bench", "-f", u.key); err != nil {
		return nil, err
	}
	pub, err := os.ReadFile(u.key + ".pub")
	if err != nil {
		return nil, fmt.Errorf("reading the bench's public key: %w", err)
	}
	k, err := srv.c.AddSSHKey(ctx, "bench", strings.TrimSpace(string(pub)))
	if err != nil {
		return nil, fmt.Errorf("registering the bench's SSH key: %w", err)
	}
	undo.push("remove the bench's SSH key", func(ctx context.Context) error { return srv.c.RemoveSSHKey(ctx, k.ID) })
	return u, nil
}

// sshTrue runs `true` in the sandbox over a new SSH connection.
func (u *sshUser) sshTrue(ctx context.Context) error {
	_, err := command(ctx, "ssh", append(u.sshArgs(), "true")...)
	return err
}

// measureSSH creates a sandbox and measures, with OpenSSH: `ssh ID@host
// true`, the time from starting `ssh -tt` until the shell's prompt, and
// file transfers. The sandbox is removed after, and by undo on failure.
func measureSSH(ctx context.Context, undo *undoStack, srv *server, cfg config) (sshSection, error) {
	sec := sshSection{trueRuns: cfg.sshRuns, loginRuns: cfg.loginRuns, version: "OpenSSH"}
	sec.transfer = transferSection{runs: cfg.scpRuns, mb: cfg.scpMB}
	if cfg.sshRuns == 0 {
		sec.skipped = "left out with -ssh-runs=0"
		return sec, nil
	}
	t := time.Now()
	fmt.Fprintln(os.Stderr, "starting the sandbox for SSH")
	zero := 0
	sb, err := srv.c.Create(ctx, client.CreateRequest{Template: cfg.template, IdleTimeout: &zero})
	if err != nil {
		return sec, fmt.Errorf("creating the SSH sandbox: %w", err)
	}
	remove := removeOnce(func(ctx context.Context) error { return srv.destroy(ctx, sb) })
	undo.push("remove the SSH sandbox "+sb.ID, remove)
	u, err := newSSHUser(ctx, undo, srv, sb.ID)
	if err != nil {
		return sec, err
	}
	if v, err := exec.CommandContext(ctx, "ssh", "-V").CombinedOutput(); err == nil {
		sec.version = strings.TrimSpace(string(v))
	}
	// The first login accepts the gateway's host key; not counted.
	if err := u.sshTrue(ctx); err != nil {
		return sec, fmt.Errorf("first SSH login: %w", err)
	}
	for i := range cfg.sshRuns {
		if err := settle(ctx); err != nil {
			return sec, err
		}
		t0 := time.Now()
		if err := u.sshTrue(ctx); err != nil {
			return sec, err
		}
		sec.sshTrue = append(sec.sshTrue, time.Since(t0))
		progress("ssh true", i, 0, cfg.sshRuns)
	}
	for i := range cfg.loginRuns {
		if err := settle(ctx); err != nil {
			return sec, err
		}
		d, err := u.loginToPrompt(ctx)
		if err != nil {
			return sec, err
		}
		sec.login = append(sec.login, d)
		progress("ssh login to prompt", i, 0, cfg.loginRuns)
	}
	if cfg.scpRuns == 0 {
		sec.transfer.skipped = "left out with -scp-runs=0"
	} else if sec.transfer, err = measureTransfers(ctx, srv, u, sec.transfer); err != nil {
		if ctx.Err() != nil {
			return sec, err
		}
		fmt.Fprintf(os.Stderr, "\nbench: the file transfers failed: %v\n", err)
		sec.transfer.skipped = "failed: " + err.Error()
	}
	sec.took = time.Since(t)
	return sec, remove(ctx)
}
