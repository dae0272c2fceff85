package cli

import "github.com/spf13/cobra"

func (a *app) sandboxListCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your team's sandboxes",
		Long: `List the sandboxes of your team that are not stopped, newest first.
` + "`runtools sandbox ls`" + ` with no arguments does the same.

-o json prints a JSON array of sandbox objects, the same as ` + "`sandbox get -o json`" + `.`,
		Example: `  runtools sandbox list
  runtools sb ls -o json | jq -r '.[].id'`,
		Args: argsRange(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.listSandboxes(cmd, format) },
	}
	addOutputFlag(cmd, &format)
	return cmd
}

func (a *app) listSandboxes(cmd *cobra.Command, format string) error {
	asJSON, err := wantJSON(cmd, format)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	sbs, err := c.List(cmd.Context())
	if err != nil {
		return err
	}
	return printList(cmd.OutOrStdout(), asJSON, sbs, a.printSandboxes)
}
