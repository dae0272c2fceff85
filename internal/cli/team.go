package cli

import (
	"io"
	"strconv"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) teamCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "team",
		Short: "Manage teams and their limits (admin)",
		Long: `Teams own sandboxes, names and API keys, and each has limits: running
sandboxes, their vCPUs and memory, disk, builds at once. Creating teams and
changing limits needs an admin key; listing shows every team to an admin
key and your own team otherwise. See what a team uses with runtools usage.`,
		Example: `  runtools team create acme
  runtools team update acme --max-sandboxes 10 --max-memory 16G
  runtools team list`,
	}, a.teamCreateCmd(), a.teamGetCmd(), a.teamUpdateCmd(), a.teamListCmd())
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

func (a *app) teamGetCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "get NAME",
		Short: "Show a team and its limits",
		Long: `Show a team and its limits: any team to an admin key, else your own.
A limit of "unlimited" is none.`,
		Example: `  runtools team get acme
  runtools team get acme -o json`,
		Args: argsRange(1, 1, "needs one team NAME"),
	}, shown[*client.Team]{
		arg: "team NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Team, error) {
			return c.Team(cmd.Context(), args[0])
		},
		print: a.printTeam,
	})
}

func (a *app) teamListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{
		Short: "List teams with their limits",
		Long:  `List teams and their limits: all of them for an admin key, else only yours.`,
		Example: `  runtools team list
  runtools team list -o json`,
	}, (*client.Client).Teams, a.printTeams)
}

func (a *app) printTeams(w io.Writer, teams []client.Team) error {
	t := newTable(w, "ID", "NAME", "SANDBOXES", "VCPUS", "MEMORY", "DISK", "BUILDS", "AGE")
	for _, team := range teams {
		l := team.Limits
		if l == nil {
			l = &client.TeamLimits{}
		}
		t.row(team.ID, team.Name, limitText(l.MaxSandboxes, 1), limitText(l.MaxVCPUs, 1), limitText(l.MaxMemoryMB, 1<<20),
			limitText(l.MaxDiskBytes, 0), limitText(l.MaxBuilds, 1), age(a.now(), team.CreatedAt))
	}
	return t.flush()
}

func (a *app) printTeam(w io.Writer, team *client.Team) error {
	t := newFields(w)
	t.row("name:", team.Name)
	t.row("id:", team.ID)
	t.row("created:", age(a.now(), team.CreatedAt)+" ago")
	if l := team.Limits; l != nil {
		t.row("max sandboxes:", limitText(l.MaxSandboxes, 1))
		t.row("max vcpus:", limitText(l.MaxVCPUs, 1))
		t.row("max memory:", limitText(l.MaxMemoryMB, 1<<20))
		t.row("max disk:", limitText(l.MaxDiskBytes, 0))
		t.row("max builds:", limitText(l.MaxBuilds, 1))
	}
	return t.flush()
}

// limitText writes a limit (unit as amountText's), or unlimited.
func limitText(n, unit int64) string {
	if n == 0 {
		return "unlimited"
	}
	return amountText(n, unit)
}

// amountText writes a count (unit 1) or a size in units of unit bytes (0:
// in bytes).
func amountText(n, unit int64) string {
	switch unit {
	case 1:
		return strconv.FormatInt(n, 10)
	case 0:
		return humanSize(n)
	}
	return humanSize(n * unit)
}
