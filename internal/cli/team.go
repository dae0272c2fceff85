package cli

import (
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) teamCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "team",
		Short: "Manage teams (admin)",
		Long: `Teams own sandboxes, names and API keys. Creating teams needs an admin
key; listing shows every team to an admin key and your own team otherwise.`,
		Example: `  runtools team create acme
  runtools team list`,
	}, a.teamCreateCmd(), a.teamListCmd())
}

func (a *app) teamCreateCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "create NAME",
		Short: "Create a team",
		Long: `Create a team. Then give it a key with ` + "`runtools key create NAME --team TEAM`" + `.
Needs an admin key.`,
		Example: `  runtools team create acme
  runtools key create acme-ci --team acme`,
		Args: argsRange(1, 1, "needs one team NAME"),
	}, shown[*client.Team]{
		arg: "team NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Team, error) {
			return c.CreateTeam(cmd.Context(), args[0])
		},
		print: func(w io.Writer, t *client.Team) error {
			writef(w, "created team %s (%s)\n", t.Name, t.ID)
			return nil
		},
	})
}

func (a *app) teamListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{
		Short: "List teams",
		Long:  `List teams: all of them for an admin key, else only yours.`,
		Example: `  runtools team list
  runtools team list -o json`,
	}, (*client.Client).Teams, a.printTeams)
}

func (a *app) printTeams(w io.Writer, teams []client.Team) error {
	t := newTable(w, "ID", "NAME", "AGE")
	for _, team := range teams {
		t.row(team.ID, team.Name, age(a.now(), team.CreatedAt))
	}
	return t.flush()
}
