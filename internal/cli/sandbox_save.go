package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) sandboxSaveCmd() *cobra.Command {
	var template string
	cmd := &cobra.Command{
		Use:   "save NAME --template TEMPLATE",
		Short: "Save a sandbox's files as a template",
		Long: `Save a running or paused sandbox's files as the next version of one of your
team's templates: what you installed and wrote by hand becomes something
new sandboxes start from. The sandbox stops no longer than a snapshot takes;
the template's new layer holds only what the sandbox changed over its own
template, and what it removed. Memory and processes are not saved (a
snapshot keeps those); /tmp, /run and the kernel's directories are left out.`,
		Example: `  runtools sandbox save my-env --template my-env-tpl
  runtools sandbox create --template my-env-tpl`,
		Args: argsRange(1, 1, "needs one sandbox NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkName(cmd, "sandbox NAME", args[0]); err != nil {
				return err
			}
			if template == "" {
				return usageErr(cmd, "--template is required: the name of the template to save %s as", args[0])
			}
			if err := checkName(cmd, "template NAME", template); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p := a.startProgress(cmd.ErrOrStderr(), "saving %s as %s", args[0], template)
			t, err := c.SaveSandbox(cmd.Context(), args[0], template)
			p.end(err)
			if err != nil {
				return fmt.Errorf("saving %s: %w", args[0], sandboxErr(args[0], err))
			}
			writef(cmd.OutOrStdout(), "template %s version %d saved from %s (%s)\n", t.Name, t.Version, args[0], humanSize(t.SizeBytes))
			return nil
		},
	}
	cmd.Flags().StringVar(&template, "template", "", "the template to save the sandbox as (a new version if it exists)")
	return cmd
}
