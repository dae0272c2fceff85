package cli

import (
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) templateCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:     "template",
		Aliases: []string{"tpl"},
		Short:   "List, build and remove sandbox templates",
		Long: `Templates are the root filesystems sandboxes start from: the built-in base
and desktop, and your team's own, built from a Dockerfile.`,
		Example: `  runtools template list
  runtools template build my-app -f Dockerfile
  runtools template get my-app
  runtools sandbox create --template my-app`,
	}, a.templateListCmd(), a.templateGetCmd(), a.templateBuildCmd(), a.templateHistoryCmd(), a.templateUpdateCmd(), a.templateRemoveCmd())
}

func (a *app) templateListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{
		Short: "List templates",
		Long: `List the templates sandboxes can be made from, the built-in ones and your
team's own: status (ready, building, missing, failed), size on disk, when
it was built, and what it holds. Aliases are listed as "alias → template".`,
		Example: `  runtools template list
  runtools tpl ls -o json`,
	}, (*client.Client).Templates, a.printTemplates)
}

func (a *app) printTemplates(w io.Writer, tpls []client.Template) error {
	t := newTable(w, "NAME", "STATUS", "SIZE", "BUILT", "DESCRIPTION")
	now := a.now()
	for _, tpl := range tpls {
		size, built, desc := "-", "-", tpl.Description
		if tpl.SizeBytes > 0 {
			size = humanSize(tpl.SizeBytes)
		}
		if !tpl.BuiltAt.IsZero() {
			built = age(now, tpl.BuiltAt) + " ago"
		}
		if tpl.Error != "" {
			desc = "error: " + tpl.Error
		}
		t.row(tpl.Name, tpl.Status, size, built, desc)
		for _, alias := range tpl.Aliases {
			t.row(alias+" → "+tpl.Name, tpl.Status, "-", "-", "")
		}
	}
	return t.flush()
}
