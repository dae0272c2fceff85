package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) templateGetCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:   "get NAME",
		Short: "Show one template and what its build installed",
		Long: `Show one template: its status, size, when it was built, and the versions its
build installed. The packages that matter most (the desktop's browsers,
Node.js, Python) come first, then every Debian package the template asked
for, and the global npm packages as npm:NAME. Templates are built from
Debian's archive, which moves: these are the versions of this build.

-o json prints the template object as the API returns it.`,
		Example: `  runtools template get desktop
  runtools template get desktop -o json | jq -r '.packages["firefox-esr"]'`,
		Args: argsRange(1, 1, "needs one template NAME (see `runtools template list`)"),
	}, shown[client.Template]{
		arg: "template NAME",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (client.Template, error) {
			return c.Template(cmd.Context(), args[0])
		},
		print: a.printTemplate,
	})
}

// printTemplate writes one template as "key: value" lines, then its
// package versions, the tracked ones first.
func (a *app) printTemplate(w io.Writer, tpl client.Template) error {
	t := newFields(w)
	field := func(k, v string) { t.row(k+":", v) }
	field("name", tpl.Name)
	if len(tpl.Aliases) > 0 {
		field("aliases", strings.Join(tpl.Aliases, ", "))
	}
	field("status", tpl.Status)
	if tpl.Error != "" {
		field("error", tpl.Error)
	}
	if tpl.SizeBytes > 0 {
		field("size", humanSize(tpl.SizeBytes))
	}
	if !tpl.BuiltAt.IsZero() {
		field("built", tpl.BuiltAt.Local().Format("2006-01-02 15:04")+" ("+age(a.now(), tpl.BuiltAt)+" ago)")
	}
	field("description", tpl.Description)
	if tpl.Custom {
		printCustom(t, tpl)
	}
	var tracked []string
	for _, name := range tpl.Tracked {
		if v, ok := tpl.Packages[name]; ok {
			tracked = append(tracked, strings.TrimPrefix(name, "npm:")+" "+v)
		}
	}
	listField(t, "versions", tracked)
	var all []string
	for _, name := range slices.Sorted(maps.Keys(tpl.Packages)) {
		all = append(all, name+" "+tpl.Packages[name])
	}
	listField(t, "packages", all)
	return t.flush()
}

// printCustom writes what a custom template has: where it came from, what
// its sandboxes start with, and its layers.
func printCustom(t *table, tpl client.Template) {
	field := func(k, v string) { t.row(k+":", v) }
	field("version", strconv.Itoa(tpl.Version))
	field("built by", orDash(tpl.BuiltBy))
	field("from", tpl.From)
	if c := tpl.Config; c != nil {
		if c.Workdir != "" {
			field("workdir", c.Workdir)
		}
		if c.User != "" {
			field("user", c.User)
		}
		if start := append(append([]string(nil), c.Entrypoint...), c.Cmd...); len(start) > 0 {
			field("start", strings.Join(start, " "))
		}
		if len(c.Ports) > 0 {
			ports := make([]string, len(c.Ports))
			for i, p := range c.Ports {
				ports[i] = strconv.Itoa(p)
			}
			field("ports", strings.Join(ports, ", "))
		}
		if c.Desktop {
			field("desktop", "yes (VNC on port 6901)")
		}
		if c.MemoryMB > 0 {
			field("memory", strconv.Itoa(c.MemoryMB)+" MB")
		}
		listField(t, "env", c.Env)
	}
	layers := make([]string, len(tpl.Layers))
	for i, l := range tpl.Layers {
		layers[i] = fmt.Sprintf("%s  %s  %s", l.ID[:12], humanSize(l.SizeBytes), l.CreatedBy)
	}
	listField(t, "layers", layers)
}
