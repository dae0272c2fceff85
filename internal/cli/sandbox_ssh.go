package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/spf13/cobra"
)

func (a *app) sandboxSSHCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ssh NAME [-- CMD...]",
		Short: "Open an SSH session in a sandbox with your ssh client",
		Long: `Run the system's ssh with the sandbox's user, host and port: an
interactive shell, or CMD. It logs in with your usual SSH keys: register
them once with 'runtools ssh-key add NAME'. Everything after -- goes to ssh
as the remote command.`,
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
			bin, err := exec.LookPath("ssh")
			if err != nil {
				return errors.New("no ssh client found: install OpenSSH (apt install openssh-client)")
			}
			sshArgs := []string{"-p", strconv.Itoa(sb.SSH.Port), sb.SSH.User + "@" + sb.SSH.Host}
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
