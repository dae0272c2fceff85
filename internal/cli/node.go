package cli

import (
	"encoding/json"
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
  runtools node drain n2
  runtools node uncordon n2`,
	}, a.nodeListCmd(), a.nodeDrainCmd(), a.nodeStateCmd("cordon", "cordoned", "Take no new sandboxes on a node; it keeps its own"),
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

func (a *app) nodeDrainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drain NODE",
		Short: "Move every running sandbox off a node, for maintenance",
		Long: `Drain a node: it takes no new sandboxes, and each sandbox running on it is
paused, its image stored in the object store, and resumed on another node,
one after the other. A moved sandbox keeps its name, URLs, SSH and files,
with its processes and memory; its IP changes. Each line says where a
sandbox went and how long it was away. Paused sandboxes stay: they resume
on any node. Needs an admin key, and a cluster with --object-store.
'runtools node uncordon NODE' lets the node take sandboxes again.`,
		Example: `  runtools node drain n2
  runtools node drain n2 -o json`,
		Args: argsRange(1, 1, "needs one NODE name"),
	}
	var format string
	addOutputFlag(cmd, &format)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		asJSON, err := wantJSON(cmd, format)
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		sum, err := c.Drain(cmd.Context(), args[0], func(ev client.DrainEvent) {
			printDrain(w, ev, asJSON)
		})
		if err != nil {
			return err
		}
		printDrain(w, *sum, asJSON)
		if sum.Failed > 0 {
			return fmt.Errorf("%d sandbox(es) could not move and stay paused on %s; see the lines above", sum.Failed, args[0])
		}
		return nil
	}
	return cmd
}

// printDrain prints one line of a drain: JSON lines with -o json.
func printDrain(w io.Writer, ev client.DrainEvent, asJSON bool) {
	switch {
	case asJSON:
		data, _ := json.Marshal(ev)
		writef(w, "%s\n", data)
	case ev.Done:
		writef(w, "node %s drained: %d sandbox(es) moved, %d failed\n", ev.Node, ev.Moved, ev.Failed)
	case ev.Error != "":
		writef(w, "%s: not moved: %s\n", label(ev), ev.Error)
	default:
		writef(w, "%s: moved to %s (%s), away %d ms\n", label(ev), ev.To, ev.IP, ev.AwayMS)
	}
}

func label(ev client.DrainEvent) string {
	if ev.Name != "" {
		return ev.Name + " (" + ev.Sandbox + ")"
	}
	return ev.Sandbox
}
