package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func parsePort(cmd *cobra.Command, s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, usageErr(cmd, "PORT must be a number from 1 to 65535, got %q", s)
	}
	return p, nil
}

func (a *app) sandboxExposeCmd(open bool) *cobra.Command {
	use, short, verb := "expose NAME PORT", "Make a sandbox port reachable at its URL", "exposed"
	if !open {
		use, short, verb = "unexpose NAME PORT", "Stop serving a sandbox port at its URL", "hid"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long: `Every exposed port of a sandbox is served at http://{port}-{id}.{domain}
(ports 3000, 3001, 5173, 8000 and 8080 are exposed by default). The agent's
port 49983 can never be exposed.`,
		Example: `  runtools sandbox expose my-env 4000
  runtools sandbox unexpose my-env 8080`,
		Args: argsRange(2, 2, "needs a sandbox NAME and a PORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			port, err := parsePort(cmd, args[1])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var sb *client.Sandbox
			if open {
				sb, err = c.Expose(cmd.Context(), args[0], port)
			} else {
				sb, err = c.Unexpose(cmd.Context(), args[0], port)
			}
			if err != nil {
				return sandboxErr(args[0], err)
			}
			writef(cmd.OutOrStdout(), "%s port %d of %s\n", verb, port, args[0])
			if open {
				for _, u := range sb.URLs {
					if u.Port == port {
						writef(cmd.OutOrStdout(), "%s\n", u.URL)
					}
				}
			}
			return nil
		},
	}
}

func (a *app) sandboxURLCmd() *cobra.Command {
	var signed bool
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "url NAME [PORT]",
		Short: "Print a sandbox's dev-server URLs",
		Long: `Print the URL of a sandbox port, or of every exposed port. Private URLs
need the sandbox's access token (the X-Runtools-Access-Token header, shown by
'runtools sandbox get'), or a signed link: --signed prints one that opens
the port in a browser until it expires.`,
		Example: `  runtools sandbox url my-env
  runtools sandbox url my-env 5173 --signed --ttl 2h
  curl -H "X-Runtools-Access-Token: $TOKEN" $(runtools sandbox url my-env 3000)`,
		Args: argsRange(1, 2, "needs a sandbox NAME and optionally a PORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if len(args) == 2 {
				port, err := parsePort(cmd, args[1])
				if err != nil {
					return err
				}
				if signed {
					l, err := c.SignedLink(cmd.Context(), args[0], port, int(ttl.Seconds()))
					if err != nil {
						return sandboxErr(args[0], err)
					}
					writef(cmd.OutOrStdout(), "%s\n", l.URL)
					return nil
				}
				sb, err := c.Get(cmd.Context(), args[0])
				if err != nil {
					return sandboxErr(args[0], err)
				}
				for _, u := range sb.URLs {
					if u.Port == port {
						writef(cmd.OutOrStdout(), "%s\n", u.URL)
						return nil
					}
				}
				return fmt.Errorf("port %d of %s is not exposed: runtools sandbox expose %s %d", port, args[0], args[0], port)
			}
			if signed {
				return usageErr(cmd, "--signed needs a PORT")
			}
			sb, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			for _, u := range sb.URLs {
				writef(cmd.OutOrStdout(), "%d\t%s\n", u.Port, u.URL)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&signed, "signed", false, "print a signed link that needs no token until it expires")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long a signed link stays valid")
	return cmd
}
