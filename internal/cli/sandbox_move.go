package cli

import (
	"context"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxMoveCmd() *cobra.Command {
	var node string
	cmd := a.lifecycleCmd(&cobra.Command{
		Use:   "move NAME...",
		Short: "Move a paused sandbox to another node of the cluster and resume it there",
		Long: `Move a paused sandbox, or one whose node is lost, to another node of the
cluster and resume it there from its image in the object store (the server's
--object-store). Its IP changes; its name, URLs, SSH and files stay. Without
--node, placement picks the node. A running sandbox is paused first with
'runtools sandbox pause'; 'runtools node drain' moves every sandbox of a node.`,
		Example: `  runtools sandbox pause my-env && runtools sandbox move my-env --node n2
  runtools sandbox move my-env`,
	}, "moving", "moved", func(c *client.Client, ctx context.Context, ref string) (*client.Sandbox, error) {
		return c.Move(ctx, ref, node)
	})
	cmd.Flags().StringVar(&node, "node", "", "the node to move to (default: the one placement picks)")
	return cmd
}
