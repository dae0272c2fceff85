package cli

import (
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
		call: listOf(func(cmd *cobra.Command, c *client.Client, args []string) ([]client.Template, error) {
			return c.TemplateHistory(cmd.Context(), args[0])
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
	return a.removeCmd(&cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove one of your templates, every version",
		Long: `Remove one of your team's custom templates, every version of it. It is
refused while a sandbox uses the template, and the answer names them.
Built-in templates cannot be removed.`,
		Example: `  runtools template rm my-app`,
		Args:    argsRange(1, 1, "needs one template NAME"),
	}, "template NAME", "removing template", "removed template", (*client.Client).RemoveTemplate)
}

func (a *app) templateUpdateCmd() *cobra.Command {
	var public bool
	var team string
	cmd := &cobra.Command{
		Use:   "update NAME --public[=false]",
		Short: "Make a template public to every team, or private again (admin)",
		Long: `A custom template belongs to the team that built it. With an admin key,
--public lets every team create sandboxes from it (and build FROM it), and
--public=false makes it the team's alone again; sandboxes already made keep
running. --team names the owning team when it is not the key's own.`,
		Example: `  runtools template update my-app --public
  runtools template update my-app --public=false --team acme`,
		Args: argsRange(1, 1, "needs one template NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "template NAME", args[0]); err != nil {
				return err
			}
			if !cmd.Flags().Changed("public") {
				return usageErr(cmd, "nothing to change: give --public or --public=false")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.SetTemplatePublic(cmd.Context(), args[0], team, public); err != nil {
				return fmt.Errorf("updating template %s: %w", args[0], err)
			}
			state := "private to its team"
			if public {
				state = "public"
			}
			writef(cmd.OutOrStdout(), "template %s is %s\n", args[0], state)
			return nil
		},
	}
	cmd.Flags().BoolVar(&public, "public", false, "every team may use the template")
	cmd.Flags().StringVar(&team, "team", "", "the team that owns the template (default: the key's)")
	return cmd
}
