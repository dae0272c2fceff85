package cli

import (
	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxDestroyCmd() *cobra.Command {
	return a.eachSandboxCmd(&cobra.Command{
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
	}, each{doing: "destroying", done: "destroyed", stopOnInterrupt: true, call: func(cmd *cobra.Command, c *client.Client, name string) error {
		return c.Destroy(cmd.Context(), name)
	}})
}
