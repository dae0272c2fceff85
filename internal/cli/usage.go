package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) usageCmd() *cobra.Command {
	var team string
	cmd := showCmd(a, &cobra.Command{
		Use:   "usage",
		Short: "Show what your team uses against its limits",
		Long: `Show what a team uses against each of its limits: running sandboxes, their
vCPUs and memory, disk (paused sandboxes, snapshots, volumes and custom
templates) and builds at once. An admin key shows every team, or the one
--team names. A create, resume or build that would go over a limit is
refused, saying which; an admin raises a team's limits with
runtools team update.`,
		Example: `  runtools usage
  runtools usage --team acme -o json`,
		Args: argsRange(0, 0, "takes no arguments; name a team with --team"),
	}, shown[[]client.TeamUsage]{
		call: listOf(func(cmd *cobra.Command, c *client.Client, _ []string) ([]client.TeamUsage, error) {
			return c.Usage(cmd.Context(), team)
		}),
		print: printUsage,
	})
	cmd.Flags().StringVar(&team, "team", "", "the team to show (an admin key; default: every team for an admin, else yours)")
	return cmd
}

func printUsage(w io.Writer, teams []client.TeamUsage) error {
	t := newTable(w, "TEAM", "QUOTA", "USED", "LIMIT", "DETAIL")
	for _, u := range teams {
		for _, q := range u.Quotas {
			detail := ""
			if q.Name == client.QuotaDiskBytes {
				d := u.Disk
				detail = fmt.Sprintf("paused %s, snapshots %s, volumes %s, templates %s", humanSize(d.PausedBytes),
					humanSize(d.SnapshotBytes), humanSize(d.VolumeBytes), humanSize(d.TemplateBytes))
			}
			t.row(u.Team, strings.TrimSuffix(strings.TrimSuffix(q.Name, "_mb"), "_bytes"), amountText(q.Used, quotaUnit(q)), limitText(q.Limit, quotaUnit(q)), detail)
		}
	}
	return t.flush()
}

// quotaUnit is the bytes in one of q's unit: 0 for bytes, 1 for a count.
func quotaUnit(q client.Quota) int64 {
	switch q.Unit {
	case "bytes":
		return 0
	case "MB":
		return 1 << 20
	}
	return 1
}
