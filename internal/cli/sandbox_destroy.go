package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) sandboxDestroyCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "destroy NAME...",
		Aliases: []string{"rm", "delete"},
		Short:   "Destroy sandboxes",
		Long: `Stop sandboxes and remove every trace of them: processes, files and
network. This cannot be undone.

Each NAME is destroyed in turn; a failure is reported and the rest are
still destroyed. The exit code is 1 if any failed.`,
		Example: `  runtools sandbox destroy my-env
  runtools sb rm web worker-1 worker-2
  runtools sandbox list -o json | jq -r '.[].id' | xargs runtools sandbox destroy`,
		Args: argsRange(1, -1, "needs at least one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range args {
				if err := checkName(cmd, "sandbox NAME", name); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			failed := 0
			for _, name := range args {
				if err := c.Destroy(cmd.Context(), name); err != nil {
					failed++
					printErr(cmd.ErrOrStderr(), explain(fmt.Errorf("destroying %s: %w", name, sandboxErr(name, err))))
					if cmd.Context().Err() != nil {
						return cmd.Context().Err()
					}
					continue
				}
				writef(cmd.OutOrStdout(), "destroyed %s\n", name)
			}
			if failed > 0 {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
}
