package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) keyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage API keys",
		Long: `API keys authenticate the CLI and SDKs. A key belongs to one team; an
admin key can also manage teams, other teams' keys and templates.`,
		Example: `  runtools key create ci
  runtools key list
  runtools key delete ci`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.keyCreateCmd(), a.keyListCmd(), a.keyDeleteCmd())
	return cmd
}

func (a *app) keyCreateCmd() *cobra.Command {
	var (
		req    client.CreateKeyRequest
		format string
	)
	cmd := &cobra.Command{
		Use:   "create NAME [--team TEAM] [--admin]",
		Short: "Create an API key and print its secret once",
		Long: `Create an API key. The secret goes to stdout, and this is the only time
it is shown: store it right away. A note about it goes to stderr, so
KEY=$(runtools key create ci) captures just the secret.

Without --team the key belongs to your team; another team or --admin
needs an admin key.`,
		Example: `  runtools key create ci
  runtools key create acme-ci --team acme
  runtools key create ops --admin -o json`,
		Args: argsRange(1, 1, "needs one key NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, c, err := a.begin(cmd, format, "key NAME", args[0])
			if err != nil {
				return err
			}
			req.Name = args[0]
			k, err := c.CreateKey(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("creating key %s: %w", req.Name, err)
			}
			kind := "API key"
			if k.Admin {
				kind = "admin API key"
			}
			writef(cmd.ErrOrStderr(), "created %s %s (%s) for team %s\n", kind, k.Name, k.ID, k.Team)
			writef(cmd.ErrOrStderr(), "warning: this is the only time the secret is shown: store it now\n")
			if asJSON {
				return printJSON(cmd.OutOrStdout(), k)
			}
			writef(cmd.OutOrStdout(), "%s\n", k.Secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Team, "team", "", "team the key belongs to (default: yours)")
	cmd.Flags().BoolVar(&req.Admin, "admin", false, "make an admin key")
	addOutputFlag(cmd, &format)
	return cmd
}

func (a *app) keyListCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List API keys",
		Long:    `List the API keys of your team, or of every team for an admin key. Secrets are never shown again.`,
		Example: `  runtools key list
  runtools key list -o json`,
		Args: argsRange(0, 0, "takes no arguments"),
	}, shown[[]client.APIKey]{
		fetch: listOf(func(ctx context.Context, c *client.Client, _ []string) ([]client.APIKey, error) { return c.Keys(ctx) }),
		print: a.printKeys,
	})
}

func (a *app) printKeys(w io.Writer, keys []client.APIKey) error {
	t := newTable(w, "ID", "NAME", "TEAM", "ADMIN", "AGE")
	for _, k := range keys {
		admin := "no"
		if k.Admin {
			admin = "yes"
		}
		t.row(k.ID, k.Name, k.Team, admin, age(a.now(), k.CreatedAt))
	}
	return t.flush()
}

func (a *app) keyDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "delete ID|NAME",
		Aliases: []string{"revoke", "rm"},
		Short:   "Revoke an API key",
		Long:    `Revoke an API key by ID or name. Programs using it are refused from then on.`,
		Example: `  runtools key delete ci
  runtools key revoke key_0123abcd`,
		Args: argsRange(1, 1, "needs one key ID or NAME (see `runtools key list`)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "key ID or NAME", args[0]); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DeleteKey(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("deleting key %s: %w", args[0], err)
			}
			writef(cmd.OutOrStdout(), "deleted key %s\n", args[0])
			return nil
		},
	}
}
