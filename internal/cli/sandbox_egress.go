package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// egressFlags are the flags that make an egress policy.
type egressFlags struct {
	def         string
	allow, deny []string
}

func (e *egressFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&e.def, "egress", "", "what egress no rule matches gets: allow or deny (default allow; deny once --egress-allow is given)")
	f.StringArrayVar(&e.allow, "egress-allow", nil, "allow egress to an IPv4 address, CIDR or domain (*.example.com for its subdomains too); repeatable")
	f.StringArrayVar(&e.deny, "egress-deny", nil, "deny egress to an IPv4 address, CIDR or domain, even if allowed; repeatable")
}

// set reports whether any egress flag was given.
func (e *egressFlags) set(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("egress") || len(e.allow) > 0 || len(e.deny) > 0
}

// policy returns the policy the flags describe.
func (e *egressFlags) policy(cmd *cobra.Command) (client.Egress, error) {
	p := client.Egress{Default: e.def, Allow: e.allow, Deny: e.deny}
	switch {
	case e.def == "" && len(e.allow) > 0:
		p.Default = "deny" // an allow list means: only these
	case e.def != "" && e.def != "allow" && e.def != "deny":
		return p, usageErr(cmd, "--egress is allow or deny, not %q", e.def)
	}
	return p, nil
}

func (a *app) sandboxEgressCmd() *cobra.Command {
	var flags egressFlags
	cmd := showCmd(a, &cobra.Command{
		Use:   "egress NAME [--egress allow|deny] [--egress-allow RULE]... [--egress-deny RULE]...",
		Short: "Show or replace where a sandbox may connect",
		Long: `Show a sandbox's egress policy, or replace it with the one the flags make.
The new policy applies at once, to new connections.

Rules are IPv4 addresses, CIDRs or domains ("example.com" itself,
"*.example.com" it and its subdomains). Deny rules win over allow rules,
allow rules over the default. Domains are checked as the sandbox looks them
up, and the addresses they resolve to are checked again, so a name that
resolves to a denied address stays denied.

Always denied, whatever the policy: link-local and cloud metadata
addresses, this host's own addresses and other teams' sandboxes. Always
allowed: your team's sandboxes, by IP or as NAME.internal.`,
		Example: `  runtools sandbox egress my-env
  runtools sandbox egress my-env --egress deny
  runtools sandbox egress my-env --egress-allow api.github.com --egress-allow '*.npmjs.org'
  runtools sandbox egress my-env --egress allow --egress-deny 10.0.0.0/8
  runtools sandbox egress my-env --egress allow     # back to the default: allow everything`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
	}, shown[client.Egress]{
		call: func(cmd *cobra.Command, c *client.Client, args []string) (client.Egress, error) {
			if !flags.set(cmd) {
				sb, err := c.Get(cmd.Context(), args[0])
				if err != nil {
					return client.Egress{}, err
				}
				return sb.Egress, nil
			}
			p, err := flags.policy(cmd)
			if err != nil {
				return client.Egress{}, err
			}
			sb, err := c.SetEgress(cmd.Context(), args[0], p)
			if err != nil {
				return client.Egress{}, fmt.Errorf("setting the egress policy of %s: %w", args[0], err)
			}
			return sb.Egress, nil
		},
		print: printEgress,
	})
	flags.add(cmd)
	return cmd
}

func printEgress(w io.Writer, e client.Egress) error {
	list := func(rules []string) string {
		if len(rules) == 0 {
			return "-"
		}
		return strings.Join(rules, ", ")
	}
	writef(w, "default  %s\nallow    %s\ndeny     %s\n", orDefault(e.Default, "allow"), list(e.Allow), list(e.Deny))
	return nil
}
