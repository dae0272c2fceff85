package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) templateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "template",
		Aliases: []string{"tpl"},
		Short:   "List and build sandbox templates",
		Long:    `Templates are the root filesystems sandboxes start from.`,
		Example: `  runtools template list
  runtools template get desktop
  runtools template build base`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(a.templateListCmd(), a.templateGetCmd(), a.templateBuildCmd())
	return cmd
}

func (a *app) templateListCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List templates",
		Long: `List the templates sandboxes can be made from: status (ready, building,
missing, failed), size on disk, when it was built, and what it holds.
Aliases are listed as "alias → template".`,
		Example: `  runtools template list
  runtools tpl ls -o json`,
		Args: argsRange(0, 0, "takes no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := wantJSON(cmd, format)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			tpls, err := c.Templates(cmd.Context())
			if err != nil {
				return err
			}
			return printList(cmd.OutOrStdout(), asJSON, tpls, a.printTemplates)
		},
	}
	addOutputFlag(cmd, &format)
	return cmd
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

func (a *app) templateBuildCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "build NAME",
		Short: "Build a template (admin)",
		Long: `Build a template's root filesystem, or confirm it is up to date. Building
from scratch takes a few minutes; progress lines go to stderr as they
come. Needs an admin key.`,
		Example: `  runtools template build base
  runtools template build desktop`,
		Args: argsRange(1, 1, "needs one template NAME (see `runtools template list`)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkName(cmd, "template NAME", name); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			err = c.BuildTemplate(cmd.Context(), name, func(p client.TemplateProgress) {
				if p.Step == "" && p.Detail == "" {
					return
				}
				line := p.Step
				if p.Detail != "" {
					line += " " + p.Detail
				}
				d := (time.Duration(p.ElapsedMS) * time.Millisecond).Round(time.Second)
				writef(stderr, "[%s] %s\n", d, line)
			})
			if err != nil {
				return fmt.Errorf("building template %s: %w", name, err)
			}
			size := ""
			if tpls, err := c.Templates(cmd.Context()); err == nil {
				for _, t := range tpls {
					if t.Name == name && t.SizeBytes > 0 {
						size = " (" + humanSize(t.SizeBytes) + ")"
					}
				}
			}
			writef(cmd.OutOrStdout(), "template %s ready%s\n", name, size)
			return nil
		},
	}
}
