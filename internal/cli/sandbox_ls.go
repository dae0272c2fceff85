package cli

import (
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// defaultDir is where `sandbox ls` looks without a PATH.
const defaultDir = "/root"

func (a *app) sandboxLsCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ls [NAME [PATH]]",
		Short: "List files in a sandbox (or, with no NAME, the sandboxes)",
		Long: `List a directory inside a sandbox like ls -l: mode, size in bytes,
modification time, name, and where a symlink points. PATH is absolute and
defaults to /root; a file PATH lists just that file.

With no NAME, ls lists your sandboxes, like ` + "`runtools sandbox list`" + `.`,
		Example: `  runtools sandbox ls my-env
  runtools sandbox ls my-env /etc
  runtools sandbox ls my-env /root/app -o json
  runtools sandbox ls`,
		Args: argsRange(0, 2, "takes a sandbox NAME and optionally a PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return a.sandboxesShown(nil).run(a, cmd, format, nil)
			}
			asJSON, err := wantJSON(cmd, format)
			if err != nil {
				return err
			}
			if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
				return err
			}
			dir := defaultDir
			if len(args) == 2 {
				dir = args[1]
			}
			if err := checkSandboxPath(cmd, dir); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			files := c.Files(args[0])
			fi, err := files.Stat(cmd.Context(), dir)
			if err != nil {
				return fmt.Errorf("listing %s: %w", dir, err)
			}
			entries := []client.FileInfo{*fi}
			if fi.Type == "dir" {
				if entries, err = files.List(cmd.Context(), dir); err != nil {
					return fmt.Errorf("listing %s: %w", dir, err)
				}
				if entries == nil {
					entries = []client.FileInfo{}
				}
			} else {
				entries[0].Name = dir
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), entries)
			}
			printLong(cmd.OutOrStdout(), entries)
			return nil
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}

// checkSandboxPath rejects a path inside a sandbox that is not absolute.
func checkSandboxPath(cmd *cobra.Command, p string) error {
	if !path.IsAbs(p) {
		return usageErr(cmd, "sandbox paths are absolute, got %q: try %s", p, path.Join(defaultDir, p))
	}
	return nil
}

// printLong writes entries like ls -l, sizes right-aligned.
func printLong(w io.Writer, entries []client.FileInfo) {
	width := 1
	for _, e := range entries {
		width = max(width, len(fmt.Sprint(e.Size)))
	}
	for _, e := range entries {
		name := e.Name
		if e.LinkTarget != "" {
			name += " -> " + e.LinkTarget
		}
		writef(w, "%s  %*d  %s  %s\n", modeString(e), width, e.Size, e.ModTime.Local().Format("2006-01-02 15:04"), name)
	}
}

// modeString renders a file's type and permissions, like "drwxr-xr-x".
func modeString(e client.FileInfo) string {
	perm := fs.FileMode(e.Mode & 0o777).String()[1:]
	switch e.Type {
	case "dir":
		return "d" + perm
	case "symlink":
		return "l" + perm
	case "file":
		return "-" + perm
	}
	return "?" + perm
}
