package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) sandboxKillCmd() *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill NAME PID [-s SIGNAL]",
		Short: "Send a signal to a background process",
		Long: `Send a signal to a background process and its process group. The
signal is a name (TERM, KILL, INT, HUP, ...; the SIG prefix is optional)
or a number. The default is TERM.`,
		Example: `  runtools sandbox kill my-env 42
  runtools sandbox kill my-env 42 -s KILL
  runtools sandbox kill my-env 42 -s 9`,
		Args: argsRange(2, 2, "needs a sandbox NAME and a PID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := parsePID(cmd, args)
			if err != nil {
				return err
			}
			sig := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(signal)), "SIG")
			if sig == "" {
				return usageErr(cmd, "--signal must name a signal, e.g. TERM, KILL or 9")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.Signal(cmd.Context(), args[0], pid, sig); err != nil {
				return err
			}
			writef(cmd.OutOrStdout(), "sent %s to process %d\n", sig, pid)
			return nil
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "TERM", "signal name or number")
	return cmd
}
