package reuse

import (
	"embed"

	"github.com/runtools/runtools/bench/internal/report"
)

// Report renders the check's target and, if it missed, the note on the
// daemon's bug.
func (s *Section) Report() (report.Part, error) {
	var ts []report.Target
	if s.Verdict != "" {
		ts = []report.Target{{Goal: "(extra check) a new sandbox given a just-freed address is reachable without help",
			Measured: s.Detail, Verdict: s.Verdict}}
	}
	return report.Render(templates, report.Views{Notes: s, Targets: ts})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS
