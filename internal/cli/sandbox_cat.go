package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func (a *app) sandboxCatCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cat NAME PATH",
		Short: "Print a file from a sandbox",
		Long:  `Write the content of a file inside a sandbox to stdout, as it streams in.`,
		Example: `  runtools sandbox cat my-env /etc/os-release
  runtools sandbox cat my-env /root/out.json | jq .`,
		Args: argsRange(2, 2, "needs a sandbox NAME and a file PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
				return err
			}
			if err := checkSandboxPath(cmd, args[1]); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			rc, err := c.Files(args[0]).Open(cmd.Context(), args[1])
			if err != nil {
				return fmt.Errorf("reading %s: %w", args[1], err)
			}
			defer rc.Close()
			if _, err := io.Copy(cmd.OutOrStdout(), rc); err != nil {
				return fmt.Errorf("reading %s: %w", args[1], err)
			}
			return nil
		},
	}
}
