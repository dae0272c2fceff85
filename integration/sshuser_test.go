package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sshUser is an OpenSSH client identity: a key pair in a directory of its
// own, with its own known_hosts.
type sshUser struct {
	t   *testing.T
	s   *server
	dir string
	key string // private key file
	pub string // authorized_keys line
}

func newSSHUser(t *testing.T, s *server, name string) *sshUser {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("no ssh client: make setup installs openssh-client")
	}
	u := &sshUser{t: t, s: s, dir: t.TempDir()}
	u.key = filepath.Join(u.dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", u.key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(u.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	u.pub = string(pub)
	return u
}

// opts are the options every OpenSSH tool gets: no user config, a fresh
// known_hosts, this user's key only, and no prompts.
func (u *sshUser) opts() []string {
	return []string{"-F", "/dev/null",
		"-o", "UserKnownHostsFile=" + filepath.Join(u.dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR",
		"-i", u.key}
}

func (u *sshUser) hostPort() (string, string) {
	host, port, _ := net.SplitHostPort(u.s.ssh)
	return host, port
}

// cmd builds an ssh command line for login (sandbox ID or name).
func (u *sshUser) cmd(login string, args ...string) *exec.Cmd {
	host, port := u.hostPort()
	// ssh keeps the first value of an option: args go before the defaults.
	a := append(append(args, u.opts()...), "-p", port, login+"@"+host)
	return exec.Command("ssh", a...)
}

// run runs a remote command and returns its output and ssh's exit code.
func (u *sshUser) run(login, remote string, args ...string) (stdout, stderr string, code int) {
	u.t.Helper()
	c := u.cmd(login, args...)
	c.Args = append(c.Args, remote)
	return runCmd(u.t, c)
}

// scp copies with OpenSSH's scp; legacy selects its old protocol (-O),
// which runs scp in the sandbox, instead of SFTP.
func (u *sshUser) scp(legacy bool, from, to string) {
	u.t.Helper()
	_, port := u.hostPort()
	args := append(u.opts(), "-P", port, "-q")
	if legacy {
		args = append(args, "-O")
	}
	if _, stderr, code := runCmd(u.t, exec.Command("scp", append(args, from, to)...)); code != 0 {
		u.t.Fatalf("scp %s %s (legacy %v): exit %d: %s", from, to, legacy, code, stderr)
	}
}

func (u *sshUser) remote(login, path string) string {
	host, _ := u.hostPort()
	return login + "@" + host + ":" + path
}
