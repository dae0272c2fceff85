package cli

import "github.com/spf13/cobra"

func (a *app) sandboxGetCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show one sandbox",
		Long: `Show one sandbox: its ID, name, state (and why it stopped), template,
resources, IP address, creation time, environment and metadata.

-o json prints the sandbox object as the API returns it.`,
		Example: `  runtools sandbox get my-env
  runtools sandbox get sb-1a2b3c -o json | jq -r .state`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := wantJSON(cmd, format)
			if err != nil {
				return err
			}
			if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			sb, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), sb)
			}
			return a.printSandbox(cmd.OutOrStdout(), sb)
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}
