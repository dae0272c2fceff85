// Package templates is the custom templates section: a Dockerfile build,
// cold and after a one-file change, the import of an image archive, and
// create to first exec from the custom template against base.
package templates

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

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Runs int // create-to-first-exec runs of each template
}

// Section is the custom templates section.
type Section struct {
	Config       Config
	Cold, Cached time.Duration // a build with --no-cache, and one after a one-line change
	Steps        int
	CachedSteps  int               // steps the cached rebuild took from the cache
	Create       []*measure.Result // create to first exec: the custom template, base
	Size         int64
	ArchiveBytes int64         // the image archive imported
	Imported     time.Duration // its import, from the upload's start to the template
	Skipped      string
}

var _ section.Section = (*Section)(nil)

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

// importArchive is the image the bench imports: random, so incompressible,
// in layers as an image of a small app would have.
const (
	importBytes  = 192 << 20
	importLayers = 6
)

// Name is "templates".
func (s *Section) Name() string { return "templates" }

// Run measures; a failure is reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	err := s.measure(ctx, env.Server)
	return section.Survive(ctx, "custom templates", err, &s.Skipped)
}

func (s *Section) measure(ctx context.Context, srv *server.Server) (err error) {
	fmt.Fprintln(os.Stderr, "custom templates")
	dir, err := os.MkdirTemp("", "bench-template-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{"Dockerfile": benchDockerfile}
	for k, v := range benchApp {
		files[k] = v
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	var tpl *client.Template
	if s.Cold, tpl, s.Steps, _, err = buildOnce(ctx, srv, dir, true); err != nil {
		return fmt.Errorf("cold build: %w", err)
	}
	defer srv.Client.RemoveTemplate(context.WithoutCancel(ctx), tpl.Name)
	s.Size = tpl.SizeBytes
	if err := writeFiles(dir, map[string]string{"index.js": benchApp["index.js"] + "\n// changed"}); err != nil {
		return err
	}
	if s.Cached, _, _, s.CachedSteps, err = buildOnce(ctx, srv, dir, false); err != nil {
		return fmt.Errorf("cached rebuild: %w", err)
	}
	if s.ArchiveBytes, s.Imported, err = importOnce(ctx, srv, dir); err != nil {
		return fmt.Errorf("image archive import: %w", err)
	}
	systems := []measure.Creator{
		{Name: "runtools, custom template", Once: func(ctx context.Context) (measure.Trial, error) { return srv.CreateFirstExec(ctx, tpl.Name) }},
		{Name: "runtools, base", Once: func(ctx context.Context) (measure.Trial, error) { return srv.CreateFirstExec(ctx, "base") }},
	}
	s.Create, err = measure.Create(ctx, systems, s.Config.Runs, 2)
	return err
}

// buildOnce builds the bench's template from dir and times it.
func buildOnce(ctx context.Context, srv *server.Server, dir string, noCache bool) (took time.Duration, tpl *client.Template, steps, cached int, err error) {
	tarball, dockerfile, err := client.ContextTar(dir, "")
	if err != nil {
		return 0, nil, 0, 0, err
	}
	defer tarball.Close()
	t := time.Now()
	tpl, err = srv.Client.BuildCustomTemplate(ctx, "bench-app", client.BuildOptions{Context: tarball, Dockerfile: dockerfile, NoCache: noCache},
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

// importOnce writes an image archive (docker save's format) into dir and
// times its import as a template.
func importOnce(ctx context.Context, srv *server.Server, dir string) (int64, time.Duration, error) {
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
	if _, err := srv.Client.BuildCustomTemplate(ctx, "bench-import", client.BuildOptions{ImageArchive: f}, nil); err != nil {
		return 0, 0, err
	}
	took := time.Since(t)
	srv.Client.RemoveTemplate(context.WithoutCancel(ctx), "bench-import")
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
