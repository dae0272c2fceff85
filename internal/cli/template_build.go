package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

type buildFlags struct {
	file, context       string
	image, imageArchive string
	args                []string
	noCache             bool
}

func (a *app) templateBuildCmd() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build NAME [-f DOCKERFILE] [--context DIR] | --image REF | --image-archive FILE",
		Short: "Build a template from a Dockerfile or an image (or a built-in one again)",
		Long: `Build your team's template NAME from a Dockerfile: every RUN, COPY and ADD
step runs in a gVisor sandbox, and each step's result is cached, so a
rebuild runs again from the first step that changed. Each build of a name
makes a new version; sandboxes of the old one keep it.

The build context is --context DIR (default: the Dockerfile's directory),
without what its .dockerignore leaves out. Steps and the lines they print
go to stderr as they come.

Supported: FROM (base, desktop, another of your templates, an earlier
stage), RUN, COPY and ADD (--chown, --chmod, --from a stage), ENV, ARG,
WORKDIR, USER, LABEL, EXPOSE (the ports its sandboxes serve), and CMD and
ENTRYPOINT (started in the background when a sandbox is created). Anything
else is refused with its line and what to use instead. FROM may name an
image of a registry (python:3.12-slim), pulled by the server with its own
registry credentials.

--image REF makes the template of an image alone, and --image-archive FILE
of the image in an archive (docker save, podman save, an OCI layout tar),
with the image's ENV, WORKDIR, USER, ENTRYPOINT, CMD and EXPOSE. The image
needs nothing of runtools: its binaries run through exec even without a
shell.

With the name of a built-in template and no -f, it builds that template
again from its recipe, or confirms it is up to date (admin key).`,
		Example: `  runtools template build my-app -f Dockerfile
  runtools template build my-app -f docker/Dockerfile --context . --build-arg NODE_ENV=production
  runtools template build my-app -f Dockerfile --no-cache
  runtools template build py312 --image python:3.12-slim
  runtools template build legacy --image-archive app.tar
  runtools template build base`,
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
			switch {
			case f.image != "" || f.imageArchive != "":
				return a.buildImage(cmd, c, name, f)
			case f.file == "" && f.context == "" && len(f.args) == 0 && !f.noCache:
				return a.buildBuiltin(cmd, c, name)
			}
			return a.buildCustom(cmd, c, name, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "the Dockerfile (default: DIR/Dockerfile)")
	fl.StringVar(&f.context, "context", "", "the build context directory (default: the Dockerfile's directory)")
	fl.StringArrayVar(&f.args, "build-arg", nil, "a build argument NAME=value for the Dockerfile's ARG (repeatable)")
	fl.BoolVar(&f.noCache, "no-cache", false, "run every step again, without the cache")
	fl.StringVar(&f.image, "image", "", "make the template of this image, e.g. python:3.12-slim")
	fl.StringVar(&f.imageArchive, "image-archive", "", "make the template of the image in this archive (docker save, podman save, OCI layout tar)")
	cmd.MarkFlagsMutuallyExclusive("image", "image-archive", "file")
	cmd.MarkFlagsMutuallyExclusive("image", "image-archive", "context")
	return cmd
}

// buildImage makes a template of an image alone.
func (a *app) buildImage(cmd *cobra.Command, c *client.Client, name string, f buildFlags) error {
	o := client.BuildOptions{Image: f.image, NoCache: f.noCache}
	if f.imageArchive != "" {
		archive, err := os.Open(f.imageArchive)
		if err != nil {
			return fmt.Errorf("the image archive: %w", err)
		}
		defer archive.Close()
		o.ImageArchive = archive
	}
	t, err := c.BuildCustomTemplate(cmd.Context(), name, o, progressPrinter(cmd.ErrOrStderr()))
	if err != nil {
		return fmt.Errorf("building template %s: %w", name, err)
	}
	writef(cmd.OutOrStdout(), "template %s version %d ready (%s)\n", t.Name, t.Version, humanSize(t.SizeBytes))
	return nil
}

// buildCustom builds a custom template from a Dockerfile.
func (a *app) buildCustom(cmd *cobra.Command, c *client.Client, name string, f buildFlags) error {
	dir := f.context
	if dir == "" {
		dir = "."
		if f.file != "" {
			dir = filepath.Dir(f.file)
		}
	}
	buildArgs := map[string]string{}
	for _, kv := range f.args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr(cmd, "--build-arg %q: want NAME=value", kv)
		}
		buildArgs[k] = v
	}
	tarball, dockerfile, err := client.ContextTar(dir, f.file)
	if err != nil {
		return err
	}
	defer tarball.Close()
	stderr := cmd.ErrOrStderr()
	t, err := c.BuildCustomTemplate(cmd.Context(), name, client.BuildOptions{Context: tarball, Dockerfile: dockerfile, BuildArgs: buildArgs, NoCache: f.noCache}, progressPrinter(stderr))
	if err != nil {
		return fmt.Errorf("building template %s: %w", name, err)
	}
	writef(cmd.OutOrStdout(), "template %s version %d ready (%s, %d layers of its own)\n", t.Name, t.Version, humanSize(t.SizeBytes), len(t.Layers))
	return nil
}

// buildBuiltin builds a built-in template again from its recipe.
func (a *app) buildBuiltin(cmd *cobra.Command, c *client.Client, name string) error {
	if err := c.BuildTemplate(cmd.Context(), name, progressPrinter(cmd.ErrOrStderr())); err != nil {
		return fmt.Errorf("building template %s: %w", name, err)
	}
	size := ""
	if t, err := c.Template(cmd.Context(), name); err == nil && t.SizeBytes > 0 {
		size = " (" + humanSize(t.SizeBytes) + ")"
	}
	writef(cmd.OutOrStdout(), "template %s ready%s\n", name, size)
	return nil
}

// progressPrinter writes each step of a build, and what it prints, as it
// comes: "[12s] [3/7] RUN npm ci" and its output lines under it.
func progressPrinter(w io.Writer) func(client.TemplateProgress) {
	step := ""
	return func(p client.TemplateProgress) {
		if p.Step == "" && p.Detail == "" || p.Error != "" {
			return // the command says how it failed
		}
		d := (time.Duration(p.ElapsedMS) * time.Millisecond).Round(time.Second)
		if p.Index == 0 { // a built-in template's recipe
			line := p.Step
			if p.Detail != "" {
				line += " " + p.Detail
			}
			writef(w, "[%s] %s\n", d, line)
			return
		}
		if p.Step != step {
			step = p.Step
			writef(w, "[%s] %s\n", d, p.Step)
		}
		if p.Detail != "" {
			writef(w, "       %s\n", p.Detail)
		}
	}
}
