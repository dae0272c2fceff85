package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// envSSHCommand replaces the ssh command `sandbox ssh` runs.
const envSSHCommand = "RUNTOOLS_SSH_COMMAND"

func (a *app) sandboxSSHCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ssh NAME [-- CMD...]",
		Short: "Open an SSH session in a sandbox with your ssh client",
		Long: `Run the system's ssh with the sandbox's user, host and port: an
interactive shell, or CMD. It logs in with your usual SSH keys: register
them once with 'runtools ssh-key add NAME'. Everything after -- goes to ssh
as the remote command.

$RUNTOOLS_SSH_COMMAND replaces "ssh", with options split on spaces (as
GIT_SSH_COMMAND), for example "ssh -i ~/.ssh/work_key". The gateway's host
key, as the server reports it, is kept in known_hosts next to the CLI's
config, so ssh does not ask about it.`,
		Example: `  runtools sandbox ssh my-env
  runtools sandbox ssh my-env -- uname -a`,
		Args: argsRange(1, -1, "needs a sandbox NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			sb, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			if sb.SSH == nil {
				return errors.New("this server has no SSH gateway (runtools server --ssh-listen)")
			}
			sshCmd := strings.Fields(a.getenv(envSSHCommand))
			if len(sshCmd) == 0 {
				sshCmd = []string{"ssh"}
			}
			bin, err := exec.LookPath(sshCmd[0])
			if err != nil {
				return fmt.Errorf("no ssh client %q found: install OpenSSH (apt install openssh-client), or set %s", sshCmd[0], envSSHCommand)
			}
			url, _, err := a.settings()
			if err != nil {
				return err
			}
			host := sshHost(sb.SSH.Host, url)
			sshArgs := sshCmd[1:]
			if kh, err := a.knownHosts(host, sb.SSH.Port, sb.SSH.HostKey); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v; ssh will ask you to check the host key\n", err)
			} else if kh != "" {
				// The user's own files first, so their settings still apply.
				sshArgs = append(sshArgs, "-o", "UserKnownHostsFile=~/.ssh/known_hosts "+kh)
			}
			sshArgs = append(sshArgs, "-p", strconv.Itoa(sb.SSH.Port), sb.SSH.User+"@"+host)
			if len(args) > 1 {
				sshArgs = append(sshArgs, "--")
				sshArgs = append(sshArgs, args[1:]...)
			}
			run := exec.CommandContext(cmd.Context(), bin, sshArgs...)
			run.Stdin, run.Stdout, run.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			err = run.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &ExitError{Code: ee.ExitCode()}
			}
			if err != nil {
				return fmt.Errorf("running ssh: %w", err)
			}
			return nil
		},
	}
}

// sshHost is the host to connect to: the server's answer, unless that is
// loopback and the API itself is reached elsewhere (a server that does not
// know its public name), when the API's host is the better guess.
func sshHost(host, apiURL string) string {
	u, err := neturl.Parse(apiURL)
	if err != nil || u.Hostname() == "" || !isLoopback(host) || isLoopback(u.Hostname()) {
		return host
	}
	return u.Hostname()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// knownHosts records the gateway's host key, as the server reports it, in
// a known_hosts file of the CLI's own next to its config, and returns that
// file: ssh then trusts the gateway without asking, and still refuses a
// host that answers with another key. It returns "" when the server sent
// no key.
func (a *app) knownHosts(host string, port int, key string) (string, error) {
	if key == "" {
		return "", nil
	}
	if host == "" || strings.ContainsAny(host, " \t\r\n,*?!") {
		return "", fmt.Errorf("the server sent an unusable SSH host name %q", host)
	}
	fields := strings.Fields(key)
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "ssh-") && !strings.HasPrefix(fields[0], "ecdsa-") {
		return "", fmt.Errorf("the server sent an unreadable SSH host key %q", key)
	}
	if _, err := base64.StdEncoding.DecodeString(fields[1]); err != nil {
		return "", fmt.Errorf("the server sent an unreadable SSH host key: %w", err)
	}
	cfg, err := a.configPath()
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(cfg), "known_hosts")
	if strings.ContainsAny(path, " \t\"") {
		return "", fmt.Errorf("cannot pass %q to ssh (it has spaces)", path)
	}
	pattern := host // known_hosts names a host on port 22 plainly, else as [host]:port
	if port != 22 {
		pattern = "[" + host + "]:" + strconv.Itoa(port)
	}
	line := pattern + " " + fields[0] + " " + fields[1] + "\n"
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if strings.Contains(string(old), line) {
		return path, nil
	}
	// One line per host and port: the server's word replaces an older key.
	var keep []string
	prefix := strings.SplitN(line, " ", 2)[0] + " "
	for l := range strings.SplitSeq(string(old), "\n") {
		if l != "" && !strings.HasPrefix(l, prefix) {
			keep = append(keep, l)
		}
	}
	keep = append(keep, strings.TrimSuffix(line, "\n"))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
