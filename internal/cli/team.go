package cli

import (
	"context"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) teamCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "Manage teams (admin)",
		Long: `Teams own sandboxes, names and API keys. Creating teams needs an admin
key; listing shows every team to an admin key and your own team otherwise.`,
		Example: `  runtools team create acme
  runtools team list`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.teamCreateCmd(), a.teamListCmd())
	return cmd
}

func (a *app) teamCreateCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a team",
		Long: `Create a team. Then give it a key with ` + "`runtools key create NAME --team TEAM`" + `.
Needs an admin key.`,
		Example: `  runtools team create acme
  runtools key create acme-ci --team acme`,
		Args: argsRange(1, 1, "needs one team NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, c, err := a.begin(cmd, format, "team NAME", args[0])
			if err != nil {
				return err
			}
			t, err := c.CreateTeam(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), t)
			}
			writef(cmd.OutOrStdout(), "created team %s (%s)\n", t.Name, t.ID)
			return nil
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
}

func (a *app) teamListCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List teams",
		Long:    `List teams: all of them for an admin key, else only yours.`,
		Example: `  runtools team list
  runtools team list -o json`,
		Args: argsRange(0, 0, "takes no arguments"),
	}, shown[[]client.Team]{
		fetch: listOf(func(ctx context.Context, c *client.Client, _ []string) ([]client.Team, error) { return c.Teams(ctx) }),
		print: a.printTeams,
	})
}

func (a *app) printTeams(w io.Writer, teams []client.Team) error {
	t := newTable(w, "ID", "NAME", "AGE")
	for _, team := range teams {
		t.row(team.ID, team.Name, age(a.now(), team.CreatedAt))
	}
	return t.flush()
}
