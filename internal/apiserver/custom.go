package apiserver

import (
	"archive/tar"
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

// CustomTemplates builds and keeps the teams' own templates.
type CustomTemplates interface {
	Build(ctx context.Context, req build.Request, progress func(build.Event)) (*build.Template, error)
	Latest(ctx context.Context, teamID, name string) (*build.Template, error)
	Visible(ctx context.Context, teamID string) ([]*build.Template, error)
	Versions(ctx context.Context, teamID, name string) ([]*build.Template, error)
	Remove(ctx context.Context, teamID, name string) error
	Layers(t *build.Template) []layer.Layer
	SetPublic(ctx context.Context, teamID, name string, public bool) error
	Save(ctx context.Context, req build.SaveRequest, progress func(build.Event)) (*build.Template, error)
}

// BuildLimits bound what a template build takes in a request's body; a
// zero takes the default.
type BuildLimits struct {
	ContextBytes int64 // a build context, uncompressed; default 2 GiB
	ImageBytes   int64 // an image archive; default 8 GiB
}

// SetCustomTemplates serves custom templates, keeping build contexts and
// image archives in tmpDir while they build.
func (s *Server) SetCustomTemplates(c CustomTemplates, tmpDir string, limits BuildLimits) {
	limits.ContextBytes = cmp.Or(limits.ContextBytes, 2<<30)
	limits.ImageBytes = cmp.Or(limits.ImageBytes, 8<<30)
	s.custom, s.tmpDir, s.buildLimits = c, tmpDir, limits
}

// buildCustom builds a custom template from the build context in the
// request's body (a tar, gzipped or not), streaming progress as NDJSON.
func (s *Server) buildCustom(w http.ResponseWriter, r *http.Request) error {
	if s.custom == nil {
		return fmt.Errorf("%w: custom templates are off on this server", errdefs.ErrUnavailable)
	}
	q := r.URL.Query()
	req := build.Request{TeamID: identity(r.Context()).TeamID, Name: r.PathValue("name"), BuiltBy: identity(r.Context()).KeyName,
		NoCache: q.Get("no_cache") == "true", BuildArgs: map[string]string{}}
	for _, kv := range q["build_arg"] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return invalid("build_arg %q: want NAME=value", kv)
		}
		req.BuildArgs[k] = v
	}
	if err := s.buildInput(r, &req); err != nil {
		return err
	}
	defer os.Remove(req.ContextPath)
	defer os.Remove(req.ImageArchive)
	ew := newEventWriter(w)
	defer ew.close()
	start := s.now()
	t, err := s.custom.Build(r.Context(), req, func(ev build.Event) { _ = ew.writeValue(progressToWire(req.Name, ev)) })
	elapsed := s.now().Sub(start).Milliseconds()
	if err != nil {
		if !ew.started {
			return err
		}
		_ = ew.writeValue(client.TemplateProgress{Template: req.Name, Step: "failed", Error: err.Error(), Code: wireCode(err), ElapsedMS: elapsed, Done: true})
		return nil
	}
	return ew.writeValue(client.TemplateProgress{Template: t.Name, Step: fmt.Sprintf("ready: version %d", t.Version), ElapsedMS: elapsed, Done: true})
}

// buildInput reads what a build starts from: an image reference
// (image=REF, no body), an image archive in the body
// (image_archive=true), or a build context with its Dockerfile.
func (s *Server) buildInput(r *http.Request, req *build.Request) error {
	q := r.URL.Query()
	if req.Image = q.Get("image"); req.Image != "" {
		return nil
	}
	if q.Get("image_archive") == "true" {
		path, err := s.saveBody(r.Body, s.buildLimits.ImageBytes, "the image archive", "--build-max-image-mb")
		req.ImageArchive = path
		return err
	}
	path, err := s.saveBody(r.Body, s.buildLimits.ContextBytes, "the build context", "--build-max-context-mb")
	if err != nil {
		return err
	}
	req.ContextPath = path
	if req.Dockerfile, err = readDockerfile(path, q.Get("dockerfile")); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func progressToWire(name string, ev build.Event) client.TemplateProgress {
	p := client.TemplateProgress{Template: name, Step: fmt.Sprintf("[%d/%d] %s", ev.Step, ev.Steps, ev.Instruction),
		Detail: ev.Output, ElapsedMS: ev.Elapsed.Milliseconds(), Index: ev.Step, Total: ev.Steps, Line: ev.Line, Cached: ev.Cached}
	if ev.Steps == 0 { // an image alone: one step, no Dockerfile
		p.Step = ev.Instruction
	}
	if ev.Cached {
		p.Step += " (cached)"
	}
	return p
}

// saveBody writes a build's input (what: the build context or an image
// archive) to a file, uncompressed, within limit bytes (flag sets it).
func (s *Server) saveBody(body io.Reader, limit int64, what, flag string) (string, error) {
	f, err := os.CreateTemp(s.tmpDir, "build-input-*.tar")
	if err != nil {
		return "", fmt.Errorf("keeping %s: %w", what, err)
	}
	defer f.Close()
	br := bufio.NewReader(body)
	var in io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			os.Remove(f.Name())
			return "", invalid("%s is not valid gzip: %v", what, err)
		}
		in = gz
	}
	n, err := io.Copy(f, io.LimitReader(in, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("%w: %s is larger than the server's limit of %d MB (%s)", errdefs.ErrInvalidArgument, what, limit>>20, flag)
		if flag == "--build-max-context-mb" {
			err = fmt.Errorf("%w: leave out what the build does not need with .dockerignore", err)
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// readDockerfile finds the Dockerfile in the context: name, or "Dockerfile".
func readDockerfile(ctxPath, name string) (string, error) {
	if name == "" {
		name = "Dockerfile"
	}
	want := path.Clean(name)
	f, err := os.Open(ctxPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", invalid("no %s in the build context: send it in the context's tar, and name it with dockerfile=PATH", name)
		}
		if err != nil {
			return "", invalid("the build context is not a whole tar archive: %v", err)
		}
		if path.Clean(strings.TrimPrefix(hdr.Name, "./")) == want && hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20+1))
			if err != nil {
				return "", err
			}
			if len(b) > 1<<20 {
				return "", invalid("%s is larger than 1 MB", name)
			}
			return string(b), nil
		}
	}
}

// removeTemplate removes a custom template, every version, once no
// sandbox uses it.
func (s *Server) removeTemplate(w http.ResponseWriter, r *http.Request) error {
	if s.custom == nil {
		return fmt.Errorf("%w: custom templates are off on this server", errdefs.ErrUnavailable)
	}
	team, name := identity(r.Context()).TeamID, r.PathValue("name")
	versions, err := s.custom.Versions(r.Context(), team, name)
	if err != nil {
		return err
	}
	users, err := s.templateUsers(r.Context(), team, name, versions[0].Public)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("%w: template %s is in use by %s; destroy them first", errdefs.ErrConflict, name, strings.Join(users, ", "))
	}
	if err := s.custom.Remove(r.Context(), team, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// templateUsers names the sandboxes that use a team's template: the team's
// own, paused ones too (their snapshots go with them), and, if the
// template is public, other teams' that may, without naming those.
func (s *Server) templateUsers(ctx context.Context, team, name string, public bool) ([]string, error) {
	scope := team
	if public {
		scope = "" // every team's
	}
	sbs, err := s.sandboxes.ListFiltered(ctx, scope, true, nil)
	if err != nil {
		return nil, err
	}
	var users []string
	others := 0
	for _, sb := range sbs {
		// A stopped sandbox keeps no files of its template.
		if sb.Template != name || !sb.Live() {
			continue
		}
		if sb.TeamID != team {
			others++
			continue
		}
		users = append(users, fmt.Sprintf("%s (%s)", sb.ID, sb.State))
	}
	if others > 0 {
		users = append(users, fmt.Sprintf("%d sandbox(es) of other teams (it is public)", others))
	}
	return users, nil
}

// updateTemplate makes a team's template public or private (admin). The
// body may name the team (team: a name or ID); by default the caller's.
func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	if s.custom == nil {
		return fmt.Errorf("%w: custom templates are off on this server", errdefs.ErrUnavailable)
	}
	var req struct {
		Public *bool  `json:"public"`
		Team   string `json:"team"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Public == nil {
		return invalid("nothing to change: the body may set public (true or false)")
	}
	teamID := identity(r.Context()).TeamID
	if req.Team != "" {
		t, err := s.keys.TeamByName(r.Context(), req.Team)
		if err != nil {
			return err
		}
		teamID = t.ID
	}
	if err := s.custom.SetPublic(r.Context(), teamID, r.PathValue("name"), *req.Public); err != nil {
		return err
	}
	t, err := s.custom.Latest(r.Context(), teamID, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, customToWire(t, false))
}

// saveSandbox makes a sandbox's files the next version of a team's
// template; the sandbox stops no longer than a snapshot takes.
func (s *Server) saveSandbox(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	// Another team's sandbox is not found, whatever this server offers.
	if _, err := s.sandboxes.Get(r.Context(), id.TeamID, r.PathValue("ref")); err != nil {
		return err
	}
	if s.custom == nil {
		return fmt.Errorf("%w: custom templates are off on this server", errdefs.ErrUnavailable)
	}
	var req struct {
		Template string `json:"template"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Template == "" {
		return invalid("template is required: the name of the template to save the sandbox as")
	}
	t, err := s.custom.Save(r.Context(), build.SaveRequest{TeamID: id.TeamID, Sandbox: r.PathValue("ref"), Name: req.Template, BuiltBy: id.KeyName}, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, customToWire(t, false))
}

// templateHistory lists every version of a custom template, newest first.
func (s *Server) templateHistory(w http.ResponseWriter, r *http.Request) error {
	if s.custom == nil {
		return fmt.Errorf("%w: custom templates are off on this server", errdefs.ErrUnavailable)
	}
	versions, err := s.custom.Versions(r.Context(), identity(r.Context()).TeamID, r.PathValue("name"))
	if err != nil {
		return err
	}
	out := struct {
		Versions []client.Template `json:"versions"`
	}{}
	for _, t := range versions {
		out.Versions = append(out.Versions, customToWire(t, false))
	}
	return writeJSON(w, http.StatusOK, out)
}

// customToWire describes a custom template; whole adds its Dockerfile.
func customToWire(t *build.Template, whole bool) client.Template {
	c := t.Config
	out := client.Template{
		Name: t.Name, Description: "custom template, from " + t.From, Status: "ready", SizeBytes: t.Size, BuiltAt: t.CreatedAt,
		Custom: true, Version: t.Version, Team: t.TeamID, Public: t.Public, BuiltBy: t.BuiltBy, From: t.From,
		Config: &client.TemplateConfig{Env: c.Env, Workdir: c.Workdir, User: c.User, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Ports: c.Ports, Labels: c.Labels,
			MemoryMB: c.MemoryMB, Desktop: c.Desktop},
	}
	if whole {
		out.Dockerfile = t.Source
	}
	return out
}
