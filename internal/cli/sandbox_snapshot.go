package cli

import (
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sandboxSnapshotCmd() *cobra.Command {
	var name string
	var pin bool
	cmd := showCmd(a, &cobra.Command{
		Use:   "snapshot NAME [--name SNAPSHOT] [--pin]",
		Short: "Save a sandbox's memory and disk as a named snapshot",
		Long: `Save a sandbox's memory, processes and disk as a snapshot, without stopping
it for longer than the save itself. Return to it later with rollback, or
start new sandboxes from it with fork. Without --name the snapshot is named
after the time it was taken. Where the server keeps a fixed number of
snapshots per sandbox (--max-snapshots), a new one removes the oldest;
--pin keeps this one.`,
		Example: `  runtools sandbox snapshot my-env --name before-migration
  runtools sandbox snapshot my-env --name golden --pin
  runtools sandbox snapshots my-env`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[*client.Snapshot]{
		arg: "sandbox NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Snapshot, error) {
			p := a.startProgress(cmd.ErrOrStderr(), "taking a snapshot of %s", args[0])
			var opts []client.SnapshotOption
			if pin {
				opts = append(opts, client.Pinned())
			}
			sn, err := c.TakeSnapshot(cmd.Context(), args[0], name, opts...)
			p.end(err)
			return sn, sandboxErr(args[0], err)
		},
		print: func(w io.Writer, sn *client.Snapshot) error { return a.printSnapshots(w, []client.Snapshot{*sn}) },
	})
	cmd.Flags().StringVar(&name, "name", "", "snapshot name (default: the time)")
	cmd.Flags().BoolVar(&pin, "pin", false, "keep this snapshot when the server's snapshot cap removes the oldest")
	return cmd
}

func (a *app) printSnapshots(w io.Writer, list []client.Snapshot) error {
	t := newTable(w, "NAME", "SIZE", "CREATED", "ID")
	for _, sn := range list {
		name := sn.Name
		if sn.Pinned {
			name += " (pinned)"
		}
		t.row(name, humanSize(sn.SizeBytes), age(a.now(), sn.CreatedAt)+" ago", sn.ID)
	}
	return t.flush()
}

func (a *app) sandboxSnapshotsCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     "snapshots NAME",
		Short:   "List a sandbox's snapshots",
		Example: `  runtools sandbox snapshots my-env`,
		Args:    argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[[]client.Snapshot]{
		arg:   "sandbox NAME",
		call:  listOf(onSandbox((*client.Client).Snapshots)),
		print: a.printSnapshots,
	})
}

func (a *app) sandboxSnapshotRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "snapshot-rm NAME SNAPSHOT...",
		Aliases: []string{"snapshot-delete"},
		Short:   "Delete snapshots of a sandbox",
		Example: `  runtools sandbox snapshot-rm my-env before-migration`,
		Args:    argsRange(2, -1, "needs a sandbox NAME and at least one SNAPSHOT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			for _, snap := range args[1:] {
				if err := c.DeleteSnapshot(cmd.Context(), args[0], snap); err != nil {
					return err
				}
				writef(cmd.OutOrStdout(), "deleted snapshot %s of %s\n", snap, args[0])
			}
			return nil
		},
	}
}

func (a *app) sandboxRollbackCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "rollback NAME [--to SNAPSHOT]",
		Short: "Return a sandbox to a snapshot",
		Long: `Return a sandbox to a snapshot: its memory, processes and disk become what
they were when the snapshot was taken. Without --to, the latest snapshot.
The sandbox keeps its ID, name and IP; its agent gets a new token.`,
		Example: `  runtools sandbox rollback my-env
  runtools sandbox rollback my-env --to before-migration`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			p := a.startProgress(cmd.ErrOrStderr(), "rolling back %s", args[0])
			sb, err := c.Rollback(cmd.Context(), args[0], to)
			p.end(err)
			if err != nil {
				return sandboxErr(args[0], err)
			}
			return a.printSandboxRow(cmd.OutOrStdout(), sb)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "snapshot name or ID (default: the latest)")
	return cmd
}

func (a *app) sandboxForkCmd() *cobra.Command {
	var req client.ForkRequest
	cmd := showCmd(a, &cobra.Command{
		Use:   "fork NAME [--name NEW] [--from SNAPSHOT]",
		Short: "Start a new sandbox from a snapshot of another",
		Long: `Start a new sandbox from a snapshot of NAME: it has NAME's processes,
memory and files as they were, and its own ID, IP and agent token. Without
--from, a snapshot of NAME's current state is taken for it. Any number of
forks of one snapshot can run side by side.`,
		Example: `  runtools sandbox fork my-env --name my-env-2
  runtools sandbox fork my-env --name try-1 --from before-migration`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[*client.Sandbox]{
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Sandbox, error) {
			p := a.startProgress(cmd.ErrOrStderr(), "forking %s", args[0])
			sb, err := c.Fork(cmd.Context(), args[0], req)
			p.end(err)
			return sb, sandboxErr(args[0], err)
		},
		print: a.printSandboxRow,
	})
	cmd.Flags().StringVar(&req.Name, "name", "", "name of the new sandbox")
	cmd.Flags().StringVar(&req.Snapshot, "from", "", "snapshot to fork from (default: a fresh one)")
	return cmd
}
