package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/runtools/runtools/client"
)

// templatesSection is what the custom templates section measured.
type templatesSection struct {
	skipped      string
	cold, cached time.Duration // a build with --no-cache, and one after a one-line change
	steps        int
	cachedSteps  int       // steps the cached rebuild took from the cache
	create       []*result // create to first exec: the custom template, base
	size         int64
	archiveBytes int64         // the image archive imported
	imported     time.Duration // its import, from the upload's start to the template
}

// benchDockerfile is a realistic small app: a Debian package, a global npm
// tool, the app's dependencies and its code.
const benchDockerfile = `FROM base
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends sqlite3 >/dev/null && rm -rf /var/lib/apt/lists/*
RUN npm install -g --silent is-number@7.0.0
WORKDIR /srv/app
COPY package.json .
RUN npm install --silent --omit=dev
COPY . .
ENV NODE_ENV=production
`

var benchApp = map[string]string{
	"package.json": `{"name": "bench-app", "version": "1.0.0", "dependencies": {"is-odd": "3.0.1"}}`,
	"index.js":     `console.log(require("is-odd")(3))`,
}

// measureTemplatesSection measures Dockerfile builds and creates from a
// custom template against base, into rep; a failure is reported as not
// measured, with why.
func measureTemplatesSection(ctx context.Context, rep *report, srv *server) error {
	var err error
	if rep.templates, err = measureTemplates(ctx, srv, rep.cfg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("custom templates: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\nbench: the custom templates section failed: %v\n", err)
		rep.templates.skipped = "failed: " + err.Error()
	}
	return nil
}

func measureTemplates(ctx context.Context, srv *server, cfg config) (sec templatesSection, err error) {
	fmt.Fprintln(os.Stderr, "custom templates")
	dir, err := os.MkdirTemp("", "bench-template-")
	if err != nil {
		return sec, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{"Dockerfile": benchDockerfile}
	for k, v := range benchApp {
		files[k] = v
	}
	if err := writeFiles(dir, files); err != nil {
		return sec, err
	}
	var tpl *client.Template
	if sec.cold, tpl, sec.steps, _, err = buildOnce(ctx, srv, dir, true); err != nil {
		return sec, fmt.Errorf("cold build: %w", err)
	}
	defer srv.c.RemoveTemplate(context.WithoutCancel(ctx), tpl.Name)
	sec.size = tpl.SizeBytes
	if err := writeFiles(dir, map[string]string{"index.js": benchApp["index.js"] + "\n// changed"}); err != nil {
		return sec, err
	}
	if sec.cached, _, _, sec.cachedSteps, err = buildOnce(ctx, srv, dir, false); err != nil {
		return sec, fmt.Errorf("cached rebuild: %w", err)
	}
	if sec.archiveBytes, sec.imported, err = importOnce(ctx, srv, dir); err != nil {
		return sec, fmt.Errorf("image archive import: %w", err)
	}
	systems := []creator{
		{name: "runtools, custom template", once: func(ctx context.Context) (trial, error) { return srv.createFirstExec(ctx, tpl.Name) }},
		{name: "runtools, base", once: func(ctx context.Context) (trial, error) { return srv.createFirstExec(ctx, "base") }},
	}
	sec.create, err = measureCreate(ctx, systems, cfg.runs, 2)
	return sec, err
}

// buildOnce builds the bench's template from dir and times it.
func buildOnce(ctx context.Context, srv *server, dir string, noCache bool) (took time.Duration, tpl *client.Template, steps, cached int, err error) {
	tarball, dockerfile, err := client.ContextTar(dir, "")
	if err != nil {
		return 0, nil, 0, 0, err
	}
	defer tarball.Close()
	t := time.Now()
	tpl, err = srv.c.BuildCustomTemplate(ctx, "bench-app", client.BuildOptions{Context: tarball, Dockerfile: dockerfile, NoCache: noCache},
		func(p client.TemplateProgress) {
			if p.Index > 0 && p.Detail == "" {
				steps = p.Total
				if p.Cached {
					cached++
				}
			}
		})
	return time.Since(t), tpl, steps, cached, err
}

// importArchive is the image the bench imports: random, so incompressible,
// in layers as an image of a small app would have.
const (
	importBytes  = 192 << 20
	importLayers = 6
)

// importOnce writes an image archive (docker save's format) into dir and
// times its import as a template.
func importOnce(ctx context.Context, srv *server, dir string) (int64, time.Duration, error) {
	img, err := random.Image(importBytes/importLayers, importLayers)
	if err != nil {
		return 0, 0, err
	}
	path := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(path, name.MustParseReference("bench/import:latest"), img); err != nil {
		return 0, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	t := time.Now()
	if _, err := srv.c.BuildCustomTemplate(ctx, "bench-import", client.BuildOptions{ImageArchive: f}, nil); err != nil {
		return 0, 0, err
	}
	took := time.Since(t)
	srv.c.RemoveTemplate(context.WithoutCancel(ctx), "bench-import")
	return fi.Size(), took, nil
}

func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
			return err
		}
	}
	return nil
}
