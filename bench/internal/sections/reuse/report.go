package reuse

import (
	"embed"

	"github.com/runtools/runtools/bench/internal/report"
)

//go:embed *.tmpl
var templates embed.FS

var tmpl = report.Parse(templates, "*.tmpl")

// Report renders the check's target and, if it missed, the note on the
// daemon's bug.
func (s *Section) Report() (report.Part, error) {
	r := report.Renderer{T: tmpl}
	var p report.Part
	if s.Verdict != "" {
		p.Targets = []report.Target{{Goal: "(extra check) a new sandbox given a just-freed address is reachable without help",
			Measured: s.Detail, Verdict: s.Verdict}}
	}
	p.Notes = report.Lines(r.Do("notes.tmpl", s))
	return p, r.Err
}
