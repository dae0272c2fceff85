package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) nodeCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "node",
		Short: "See and cordon the cluster's nodes (admin)",
		Long: `The servers of a cluster (runtools server --cluster postgres://...) are its
nodes; a single host is a cluster of one. Any node's API serves every
sandbox, and a create goes to the least loaded node with room that holds
its template. A cordoned node takes no new sandboxes and keeps its own. A
node that stops renewing its lease (--node-lease) is lost: its running
sandboxes are reported failed (and adopted back if it returns with them
still running), and its paused ones keep their records. Needs an admin key.`,
		Example: `  runtools node list
  runtools node cordon n2
  runtools node uncordon n2`,
	}, a.nodeListCmd(), a.nodeStateCmd("cordon", "cordoned", "Take no new sandboxes on a node; it keeps its own"),
		a.nodeStateCmd("uncordon", "ready", "Let a cordoned node take new sandboxes again"))
}

func (a *app) nodeListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{
		Short: "List the nodes",
		Long: `List the cluster's nodes: their state (ready, cordoned, draining, lost),
the sandboxes running on each against its slots, their memory, their
templates, and when each last renewed its lease. * marks the node that
answered.`,
		Example: `  runtools node list
  runtools node list -o json`,
	}, (*client.Client).Nodes, a.printNodes)
}

func (a *app) printNodes(w io.Writer, nodes []client.Node) error {
	t := newTable(w, "NAME", "STATE", "SANDBOXES", "VCPUS", "MEMORY", "TEMPLATES", "HEARTBEAT", "API")
	for _, n := range nodes {
		name := n.Name
		if n.Self {
			name += " *"
		}
		t.row(name, n.State, fmt.Sprintf("%d/%d", n.Sandboxes, n.Slots), fmt.Sprintf("%d/%d", n.UsedVCPUs, n.VCPUs),
			fmt.Sprintf("%d/%d MB", n.UsedMemoryMB, n.MemoryMB), strings.Join(n.Templates, ","), age(a.now(), n.HeartbeatAt)+" ago", n.APIURL)
	}
	return t.flush()
}

func (a *app) nodeStateCmd(verb, state, short string) *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     verb + " NODE",
		Short:   short,
		Long:    short + ". Needs an admin key; see `runtools node list` for the names.",
		Example: "  runtools node " + verb + " n2",
		Args:    argsRange(1, 1, "needs one NODE name"),
	}, shown[*client.Node]{
		arg: "node NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Node, error) {
			return c.SetNodeState(cmd.Context(), args[0], state)
		},
		print: func(w io.Writer, n *client.Node) error {
			writef(w, "node %s is %s (%d sandboxes running)\n", n.Name, n.State, n.Sandboxes)
			return nil
		},
	})
}
