package cli

import (
	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxGetCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "get NAME",
		Short: "Show one sandbox",
		Long: `Show one sandbox: its ID, name, state (and why it stopped), template,
resources, IP address, creation time, environment and metadata.

-o json prints the sandbox object as the API returns it.`,
		Example: `  runtools sandbox get my-env
  runtools sandbox get sb-1a2b3c -o json | jq -r .state`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[*client.Sandbox]{
		arg:   "sandbox NAME",
		call:  onSandbox((*client.Client).Get),
		print: a.printSandbox,
	})
}
