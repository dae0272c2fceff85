package apiserver

import (
	"errors"
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/template"
)

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) error {
	infos, err := s.templates.List(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Templates []client.Template `json:"templates"`
	}{Templates: []client.Template{}}
	for _, t := range infos {
		out.Templates = append(out.Templates, templateToWire(t))
	}
	if s.custom != nil {
		custom, err := s.custom.Visible(r.Context(), identity(r.Context()).TeamID)
		if err != nil {
			return err
		}
		for _, t := range custom {
			out.Templates = append(out.Templates, customToWire(t, false))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// getTemplate describes a built-in template, or else one of the team's own.
func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	info, err := s.templates.Get(r.Context(), name)
	if errors.Is(err, errdefs.ErrNotFound) && s.custom != nil {
		t, cerr := s.custom.Latest(r.Context(), identity(r.Context()).TeamID, name)
		if cerr == nil {
			out := customToWire(t, true)
			for _, l := range s.custom.Layers(t) {
				out.Layers = append(out.Layers, client.TemplateLayer{ID: l.ID, CreatedBy: l.CreatedBy, SizeBytes: l.Size})
			}
			return writeJSON(w, http.StatusOK, out)
		}
		if !errors.Is(cerr, errdefs.ErrNotFound) {
			return cerr
		}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, templateToWire(info))
}

func templateToWire(t template.Info) client.Template {
	return client.Template{
		Name: t.Name, Aliases: t.Aliases, Description: t.Description, Status: t.Status,
		SizeBytes: t.Size, BuiltAt: t.BuiltAt, Error: t.Error, Packages: t.Packages, Tracked: t.Tracked,
	}
}

// buildTemplate builds a template, streaming progress as NDJSON: a
// built-in one again from its recipe (admin), or a custom one from the
// build context and Dockerfile in the request's body.
func (s *Server) buildTemplate(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.templates.Get(r.Context(), r.PathValue("name")); errors.Is(err, errdefs.ErrNotFound) || r.ContentLength != 0 || r.URL.Query().Has("image") {
		return s.buildCustom(w, r)
	}
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	ew := newEventWriter(w)
	defer ew.close()
	send := func(p client.TemplateProgress) { _ = ew.writeValue(p) }
	name := r.PathValue("name")
	_, err := s.templates.Build(r.Context(), name, func(p template.Progress) {
		send(client.TemplateProgress{Template: p.Template, Step: p.Step, Detail: p.Detail, ElapsedMS: p.Elapsed.Milliseconds(), Done: p.Done})
	})
	if err != nil {
		if !ew.started {
			return err
		}
		send(client.TemplateProgress{Template: name, Step: "failed", Error: err.Error(), Done: true})
		return nil
	}
	send(client.TemplateProgress{Template: name, Step: "ready", Done: true})
	return nil
}
