package desktop

import (
	"embed"
	"slices"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
)

// headlines are the pause and resume operations shown first, in this
// order; every other phase goes into "where the time goes".
var headlines = []string{server.PhPause, server.PhResume, phUsable}

// Report renders the create, screenshot and pause/resume tables, and the
// method unless the section was left out.
func (s *Section) Report() (report.Part, error) {
	v := s.view()
	return report.Render(templates, report.Views{Results: v, Method: v})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

// view is the section with its tables laid out and its constants.
type view struct {
	*Section
	Template            string
	Port                int
	Poll, FirefoxRest   time.Duration
	RefCheckpoint       time.Duration
	RefRestore          time.Duration
	Headline, Parts     []row
	Resumes             int // resumes measured
	PauseP50, ResumeP50 time.Duration
	ShotRuns, PauseRuns int
	Runs                int
}

type row struct {
	Name string
	S    stats.Samples
}

func (s *Section) view() view {
	v := view{Section: s, Template: desktopTemplate, Port: desktopPort, Poll: poll, FirefoxRest: firefoxRest,
		RefCheckpoint: refRawCheckpoint, RefRestore: refRawRestore,
		Resumes: len(s.Cycle.Get(server.PhResume)), PauseP50: s.Cycle.P50(server.PhPause), ResumeP50: s.Cycle.P50(server.PhResume),
		Runs: s.Config.Runs, ShotRuns: s.Config.ShotRuns, PauseRuns: s.Config.PauseRuns}
	for _, name := range headlines {
		if x, ok := s.Cycle.By[name]; ok {
			v.Headline = append(v.Headline, row{name, x})
		}
	}
	for _, name := range s.Cycle.Names {
		if !slices.Contains(headlines, name) {
			v.Parts = append(v.Parts, row{name, s.Cycle.By[name]})
		}
	}
	return v
}
