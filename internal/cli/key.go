package cli

import (
	"fmt"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) keyCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "key",
		Short: "Manage API keys",
		Long: `API keys authenticate the CLI and SDKs. A key belongs to one team; an
admin key can also manage teams, other teams' keys and templates.`,
		Example: `  runtools key create ci
  runtools key list
  runtools key delete ci`,
	}, a.keyCreateCmd(), a.keyListCmd(), a.keyDeleteCmd())
}

func (a *app) keyCreateCmd() *cobra.Command {
	var req client.CreateKeyRequest
	cmd := showCmd(a, &cobra.Command{
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
	}, shown[*client.APIKey]{
		arg: "key NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.APIKey, error) {
			req.Name = args[0]
			k, err := c.CreateKey(cmd.Context(), req)
			if err != nil {
				return nil, fmt.Errorf("creating key %s: %w", req.Name, err)
			}
			kind := "API key"
			if k.Admin {
				kind = "admin API key"
			}
			writef(cmd.ErrOrStderr(), "created %s %s (%s) for team %s\n", kind, k.Name, k.ID, k.Team)
			writef(cmd.ErrOrStderr(), "warning: this is the only time the secret is shown: store it now\n")
			return k, nil
		},
		print: func(w io.Writer, k *client.APIKey) error {
			writef(w, "%s\n", k.Secret)
			return nil
		},
	})
	cmd.Flags().StringVar(&req.Team, "team", "", "team the key belongs to (default: yours)")
	cmd.Flags().BoolVar(&req.Admin, "admin", false, "make an admin key")
	return cmd
}

func (a *app) keyListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{
		Short: "List API keys",
		Long:  `List the API keys of your team, or of every team for an admin key. Secrets are never shown again.`,
		Example: `  runtools key list
  runtools key list -o json`,
	}, (*client.Client).Keys, a.printKeys)
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
	return a.removeCmd(&cobra.Command{
		Use:     "delete ID|NAME",
		Aliases: []string{"revoke", "rm"},
		Short:   "Revoke an API key",
		Long:    `Revoke an API key by ID or name. Programs using it are refused from then on.`,
		Example: `  runtools key delete ci
  runtools key revoke key_0123abcd`,
		Args: argsRange(1, 1, "needs one key ID or NAME (see `runtools key list`)"),
	}, "key ID or NAME", "deleting key", "deleted key", (*client.Client).DeleteKey)
}
