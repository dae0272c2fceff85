package cli

import (
	"context"
	"fmt"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// removeCmd gives cmd a RunE that checks its one argument, a what ("key ID
// or NAME"), and removes it with remove, then says "DONE NAME"; a failure
// is "DOING NAME: ...".
func (a *app) removeCmd(cmd *cobra.Command, what, doing, done string, remove func(*client.Client, context.Context, string) error) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkName(cmd, what, args[0]); err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		if err := remove(c, cmd.Context(), args[0]); err != nil {
			return fmt.Errorf("%s %s: %w", doing, args[0], err)
		}
		writef(cmd.OutOrStdout(), "%s %s\n", done, args[0])
		return nil
	}
	return cmd
}
