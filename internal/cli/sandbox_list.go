package cli

import (
	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxListCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "list",
		Short: "List your team's sandboxes",
		Long: `List the sandboxes of your team that are not destroyed, newest first:
stopped ones too, with why they stopped (start them with 'sandbox start').
` + "`runtools sandbox ls`" + ` with no arguments does the same.

-o json prints a JSON array of sandbox objects, the same as ` + "`sandbox get -o json`" + `.`,
		Example: `  runtools sandbox list
  runtools sb ls -o json | jq -r '.[].id'`,
		Args: argsRange(0, 0, "takes no arguments"),
	}, a.sandboxesShown())
}

// sandboxesShown lists the team's sandboxes, for sandbox list and ls.
func (a *app) sandboxesShown() shown[[]*client.Sandbox] {
	return shown[[]*client.Sandbox]{
		call: listOf(func(cmd *cobra.Command, c *client.Client, _ []string) ([]*client.Sandbox, error) {
			return c.List(cmd.Context())
		}),
		print: a.printSandboxes,
	}
}
