package apiserver

import (
	"net/http"

	"github.com/runtools/runtools/client"
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
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) error {
	info, err := s.templates.Get(r.Context(), r.PathValue("name"))
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

// buildTemplate builds a template, streaming progress as NDJSON.
func (s *Server) buildTemplate(w http.ResponseWriter, r *http.Request) error {
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
