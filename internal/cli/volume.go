package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) volumeCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "volume",
		Short: "Manage volumes: your team's named persistent disks",
		Long: `A volume is a named disk of your team that outlives sandboxes. Mount it
into sandboxes at create time; several may share it:
  runtools volume create data --size 10G
  runtools sandbox create --volume data:/mnt/data        (or data:/mnt/data:ro)
Its size is a hard limit: a write beyond it fails with "No space left on
device". A volume that a sandbox (not destroyed) mounts cannot be removed.
Its files can be read and written without a sandbox: volume cat, volume put
and volume ls.`,
	}, a.volumeCreateCmd(), a.volumeListCmd(), a.volumeGetCmd(), a.volumeRemoveCmd(),
		a.volumeLsCmd(), a.volumeCatCmd(), a.volumePutCmd())
}

func (a *app) volumeCreateCmd() *cobra.Command {
	var size, format string
	cmd := &cobra.Command{
		Use:   "create NAME [--size 10G]",
		Short: "Create an empty volume",
		Long: `Create an empty volume of --size (M, G or T, powers of 1024; default 1G,
at most 1T). It takes space on the server only as files are written.`,
		Example: `  runtools volume create data --size 10G
  runtools volume create cache -o json`,
		Args: argsRange(1, 1, "needs one volume NAME"),
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		asJSON, c, err := a.begin(cmd, format, "volume NAME", args[0])
		if err != nil {
			return err
		}
		req := client.CreateVolumeRequest{Name: args[0]}
		if size != "" {
			if req.SizeMB, err = client.ParseSizeMB(size); err != nil {
				return usageErr(cmd, "--size: %v", err)
			}
		}
		v, err := c.CreateVolume(cmd.Context(), req)
		if err != nil {
			return fmt.Errorf("creating volume %s: %w", args[0], err)
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), v)
		}
		return a.printVolumes(cmd.OutOrStdout(), []client.Volume{*v})
	}
	cmd.Flags().StringVar(&size, "size", "", "what the volume holds: 512M, 10G, 1T (default 1G)")
	addOutputFlag(cmd, &format)
	return cmd
}

func (a *app) volumeListCmd() *cobra.Command {
	cmd := listCmd(a, &cobra.Command{Short: "List your team's volumes, with their size, use and users"}, (*client.Client).Volumes, a.printVolumes)
	cmd.Aliases = nil // volume ls lists files, or with no NAME the volumes
	return cmd
}

// volumesShown is what volume list shows.
func (a *app) volumesShown() shown[[]client.Volume] {
	return shown[[]client.Volume]{call: listOf(func(cmd *cobra.Command, c *client.Client, _ []string) ([]client.Volume, error) {
		return c.Volumes(cmd.Context())
	}), print: a.printVolumes}
}

func (a *app) printVolumes(w io.Writer, vols []client.Volume) error {
	t := newTable(w, "NAME", "SIZE", "USED", "USED BY", "AGE")
	for _, v := range vols {
		t.row(v.Name, humanSize(v.SizeBytes), humanSize(v.UsedBytes), orDash(strings.Join(v.UsedBy, ",")), age(a.now(), v.CreatedAt))
	}
	return t.flush()
}

func (a *app) volumeGetCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     "get NAME",
		Short:   "Show one volume",
		Long:    "Show one volume: its ID, size, what its files take, and the sandboxes that mount it.",
		Example: "  runtools volume get data\n  runtools volume get data -o json | jq .used_bytes",
		Args:    argsRange(1, 1, "needs one volume NAME or ID"),
	}, shown[*client.Volume]{arg: "volume NAME", call: onVolume((*client.Client).Volume), print: a.printVolume})
}

func (a *app) printVolume(w io.Writer, v *client.Volume) error {
	t := newFields(w)
	field := func(k, v string) { t.row(k+":", v) }
	field("id", v.ID)
	field("name", v.Name)
	field("size", humanSize(v.SizeBytes))
	field("used", humanSize(v.UsedBytes))
	field("used by", orDash(strings.Join(v.UsedBy, ", ")))
	field("created", a.timestamp(v.CreatedAt))
	return t.flush()
}

func (a *app) volumeRemoveCmd() *cobra.Command {
	return a.removeCmd(&cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a volume and its data",
		Long: `Remove a volume and all its files. A volume that a sandbox not destroyed
mounts (running, paused or stopped) is kept: destroy those sandboxes first.`,
		Example: "  runtools volume rm data",
		Args:    argsRange(1, 1, "needs one volume NAME or ID"),
	}, "volume NAME", "removing volume", "removed volume", (*client.Client).RemoveVolume)
}

// onVolume calls a client method that takes the volume named by args[0].
func onVolume[T any](method func(c *client.Client, ctx context.Context, ref string) (T, error)) callFunc[T] {
	return func(cmd *cobra.Command, c *client.Client, args []string) (T, error) {
		v, err := method(c, cmd.Context(), args[0])
		if errors.Is(err, client.ErrNotFound) {
			err = fmt.Errorf("%w (see `runtools volume list`)", err)
		}
		return v, err
	}
}

func (a *app) volumeLsCmd() *cobra.Command {
	var format string
	files := shown[[]client.FileInfo]{arg: "volume NAME", call: listOf(func(cmd *cobra.Command, c *client.Client, args []string) ([]client.FileInfo, error) {
		return c.VolumeFiles(args[0]).List(cmd.Context(), pathArg(args, "/"))
	}), print: a.printFileInfos}
	cmd := &cobra.Command{
		Use:   "ls [NAME [PATH]]",
		Short: "List a directory of a volume, without a sandbox (or, with no NAME, the volumes)",
		Long: `List a directory of a volume: type, size, modification time and name.
PATH starts at the volume's top, / (the default). With no NAME, ls lists
your volumes, like ` + "`runtools volume list`" + `.`,
		Example: "  runtools volume ls data\n  runtools volume ls data /results -o json",
		Args:    argsRange(0, 2, "takes a volume NAME and optionally a PATH (default /)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return a.volumesShown().run(a, cmd, format, nil)
			}
			return files.run(a, cmd, format, args)
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}

func (a *app) printFileInfos(w io.Writer, entries []client.FileInfo) error {
	t := newTable(w, "TYPE", "SIZE", "MODIFIED", "NAME")
	for _, e := range entries {
		name := e.Name
		if e.LinkTarget != "" {
			name += " -> " + e.LinkTarget
		}
		t.row(e.Type, humanSize(e.Size), a.timestamp(e.ModTime), name)
	}
	return t.flush()
}

func pathArg(args []string, def string) string {
	if len(args) > 1 {
		return args[1]
	}
	return def
}

func (a *app) volumeCatCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "cat NAME PATH",
		Short:   "Print a file of a volume, without a sandbox",
		Example: "  runtools volume cat data /results/out.csv > out.csv",
		Args:    argsRange(2, 2, "needs a volume NAME and a PATH in it"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			rc, err := c.VolumeFiles(args[0]).Open(cmd.Context(), args[1])
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(cmd.OutOrStdout(), rc)
			return err
		},
	}
}

func (a *app) volumePutCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "put NAME PATH < FILE",
		Short: "Write standard input to a file of a volume, without a sandbox",
		Long: `Write standard input to PATH in the volume, making its parent directories.
The file is replaced whole once written; a full volume leaves it as it was.`,
		Example: "  runtools volume put data /inputs/data.csv < data.csv",
		Args:    argsRange(2, 2, "needs a volume NAME and a PATH in it"),
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		asJSON, c, err := a.begin(cmd, format, "volume NAME", args[0])
		if err != nil {
			return err
		}
		fi, err := c.VolumeFiles(args[0]).Write(cmd.Context(), args[1], cmd.InOrStdin(), client.WriteOptions{MkDirs: true})
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), fi)
		}
		writef(cmd.OutOrStdout(), "wrote %s (%s) in volume %s\n", fi.Path, humanSize(fi.Size), args[0])
		return nil
	}
	addOutputFlag(cmd, &format)
	return cmd
}
