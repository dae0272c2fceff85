package cli

import (
	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxListCmd() *cobra.Command {
	var labels []string
	cmd := showCmd(a, &cobra.Command{
		Use:   "list",
		Short: "List your team's sandboxes",
		Long: `List the sandboxes of your team that are not destroyed, newest first:
stopped ones too, with why they stopped (start them with 'sandbox start').
` + "`runtools sandbox ls`" + ` with no arguments does the same. --label KEY=VALUE
lists only the sandboxes with that label; with several, every one must
match. DUE says what the sandbox's timeout or the server's paused TTL
does next, and when.

-o json prints a JSON array of sandbox objects, the same as ` + "`sandbox get -o json`" + `.`,
		Example: `  runtools sandbox list
  runtools sandbox list --label app=web --label env=staging
  runtools sb ls -o json | jq -r '.[].id'`,
		Args: argsRange(0, 0, "takes no arguments"),
	}, a.sandboxesShown(&labels))
	cmd.Flags().StringArrayVar(&labels, "label", nil, "only sandboxes with this label KEY=VALUE (repeatable: all must match)")
	return cmd
}

// sandboxesShown lists the team's sandboxes, for sandbox list and ls,
// those with every label of *labels (KEY=VALUE) if set.
func (a *app) sandboxesShown(labels *[]string) shown[[]*client.Sandbox] {
	return shown[[]*client.Sandbox]{
		call: listOf(func(cmd *cobra.Command, c *client.Client, _ []string) ([]*client.Sandbox, error) {
			var opts []client.ListOption
			if labels != nil {
				want, err := parseKeyValues(cmd, "label", *labels)
				if err != nil {
					return nil, err
				}
				for k, v := range want {
					opts = append(opts, client.WithLabel(k, v))
				}
			}
			return c.List(cmd.Context(), opts...)
		}),
		print: a.printSandboxes,
	}
}
