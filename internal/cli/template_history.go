package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) templateHistoryCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "history NAME",
		Short: "List the versions of one of your templates",
		Long: `List every version of one of your team's custom templates, newest first:
each build of a name makes one. Sandboxes keep the version they were
created from.`,
		Example: `  runtools template history my-app
  runtools template history my-app -o json`,
		Args: argsRange(1, 1, "needs one template NAME"),
	}, shown[[]client.Template]{
		arg: "template NAME",
		fetch: listOf(func(ctx context.Context, c *client.Client, args []string) ([]client.Template, error) {
			return c.TemplateHistory(ctx, args[0])
		}),
		print: a.printVersions,
	})
}

func (a *app) printVersions(w io.Writer, versions []client.Template) error {
	t := newTable(w, "VERSION", "BUILT", "BY", "SIZE", "FROM")
	now := a.now()
	for _, v := range versions {
		t.row(strconv.Itoa(v.Version), age(now, v.BuiltAt)+" ago", orDash(v.BuiltBy), humanSize(v.SizeBytes), v.From)
	}
	return t.flush()
}

func (a *app) templateRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove one of your templates, every version",
		Long: `Remove one of your team's custom templates, every version of it. It is
refused while a sandbox uses the template, and the answer names them.
Built-in templates cannot be removed.`,
		Example: `  runtools template rm my-app`,
		Args:    argsRange(1, 1, "needs one template NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "template NAME", args[0]); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RemoveTemplate(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("removing template %s: %w", args[0], err)
			}
			writef(cmd.OutOrStdout(), "removed template %s\n", args[0])
			return nil
		},
	}
}
