package cli

import (
	"strconv"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxLogsCmd() *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME PID",
		Short: "Print a background process's output",
		Long: `Print the output a background process has produced so far: its stdout
to stdout and its stderr to stderr. With -f, keep printing new output
until the process exits.

Find PIDs with ` + "`runtools sandbox ps NAME`" + `.`,
		Example: `  runtools sandbox logs my-env 42
  runtools sandbox logs my-env 42 -f`,
		Args: argsRange(2, 2, "needs a sandbox NAME and a PID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pid, err := a.processClient(cmd, args)
			if err != nil {
				return err
			}
			_, err = c.Output(cmd.Context(), args[0], pid, follow, client.StreamOptions{
				Stdout: cmd.OutOrStdout(),
				Stderr: cmd.ErrOrStderr(),
			})
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing output until the process exits")
	return cmd
}

// parsePID checks NAME PID arguments and returns the PID.
func parsePID(cmd *cobra.Command, args []string) (int, error) {
	if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(args[1])
	if err != nil || pid <= 0 {
		return 0, usageErr(cmd, "PID must be a positive number, got %q (see `runtools sandbox ps %s`)", args[1], args[0])
	}
	return pid, nil
}

// processClient checks the arguments NAME PID, then makes the client.
func (a *app) processClient(cmd *cobra.Command, args []string) (*client.Client, int, error) {
	pid, err := parsePID(cmd, args)
	if err != nil {
		return nil, 0, err
	}
	c, err := a.client()
	return c, pid, err
}
