package cli

import (
	"fmt"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// teamLimitFlags are the limits team update may change.
var teamLimitFlags = []struct {
	name, usage string
	shift       uint // a size, kept in units of 1<<shift bytes
	size        bool
	field       func(*client.UpdateTeamRequest) **int64
}{
	{"max-sandboxes", "running sandboxes at once", 0, false, func(r *client.UpdateTeamRequest) **int64 { return &r.MaxSandboxes }},
	{"max-vcpus", "vCPUs of the running sandboxes together", 0, false, func(r *client.UpdateTeamRequest) **int64 { return &r.MaxVCPUs }},
	{"max-memory", "memory of the running sandboxes together, such as 16G", 20, true, func(r *client.UpdateTeamRequest) **int64 { return &r.MaxMemoryMB }},
	{"max-disk", "disk of paused sandboxes, snapshots, volumes and custom templates, such as 50G", 0, true, func(r *client.UpdateTeamRequest) **int64 { return &r.MaxDiskBytes }},
	{"max-builds", "template builds at once", 0, false, func(r *client.UpdateTeamRequest) **int64 { return &r.MaxBuilds }},
}

func (a *app) teamUpdateCmd() *cobra.Command {
	values := make([]string, len(teamLimitFlags))
	cmd := showCmd(a, &cobra.Command{
		Use:   "update NAME",
		Short: "Change a team's limits (admin)",
		Long: `Change a team's limits. Each takes a number (a size such as 8G for memory
and disk), unlimited for none, or default for the server's (its --max-*
flags). Limits not given stay as they are. A team over a new limit keeps
what it has; only what would go further over is refused. Needs an admin key.`,
		Example: `  runtools team update acme --max-sandboxes 10 --max-vcpus 16 --max-memory 32G
  runtools team update acme --max-disk 50G --max-builds 2
  runtools team update acme --max-sandboxes unlimited --max-memory default`,
		Args: argsRange(1, 1, "needs one team NAME"),
	}, shown[*client.Team]{
		arg: "team NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Team, error) {
			req, err := limitsRequest(cmd, values)
			if err != nil {
				return nil, err
			}
			return c.UpdateTeam(cmd.Context(), args[0], req)
		},
		print: a.printTeam,
	})
	for i, f := range teamLimitFlags {
		cmd.Flags().StringVar(&values[i], f.name, "", "the team's limit on "+f.usage+"; unlimited, or default")
	}
	return cmd
}

// limitsRequest reads the limit flags given.
func limitsRequest(cmd *cobra.Command, values []string) (client.UpdateTeamRequest, error) {
	var req client.UpdateTeamRequest
	given := false
	for i, f := range teamLimitFlags {
		if !cmd.Flags().Changed(f.name) {
			continue
		}
		n, err := client.ParseLimit(values[i], f.size)
		if err != nil {
			return req, fmt.Errorf("--%s: %w", f.name, err)
		}
		if n > 0 {
			if n >>= f.shift; n == 0 {
				return req, fmt.Errorf("--%s %s is less than 1 MB", f.name, values[i])
			}
		}
		*f.field(&req), given = &n, true
	}
	if !given {
		return req, fmt.Errorf("give at least one limit to change, such as --max-sandboxes 10 (see --help)")
	}
	return req, nil
}
