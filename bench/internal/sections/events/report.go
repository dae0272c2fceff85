package events

import (
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
)

// Report renders the delivery and cadence tables, the cadence check, and
// the method unless the section was left out.
func (s *Section) Report() (report.Part, error) {
	perStream := 4 * s.Config.Runs
	return report.Render(templates, report.Views{Results: view{s, states, perStream},
		Method: methodView{s.Config, perStream}, Targets: s.targets()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

type view struct {
	*Section
	States []string
	Events int // status events per stream
}

type methodView struct {
	Config
	Samples int // of delivery, per stream
}

// targets are the checks of the event streams.
func (s *Section) targets() []report.Target {
	goal := "(extra check) a sandbox's stream sends metrics every second (p50 interval as received within 1 s ± 50 ms)"
	if s.Skipped != "" {
		return []report.Target{report.NotMeasured(goal, report.OneLine(s.Skipped))}
	}
	var parts []string
	ok := true
	for _, st := range s.Streams {
		if !st.Sandbox || len(st.MetricsRecv) == 0 {
			continue
		}
		p := st.MetricsRecv.P50()
		ok = ok && p >= 950*time.Millisecond && p <= 1050*time.Millisecond
		parts = append(parts, fmt.Sprintf("%s: %s", st.Name, report.MS(p)))
	}
	if len(parts) == 0 {
		return []report.Target{{Goal: goal, Measured: "no metrics intervals", Verdict: "N/A"}}
	}
	return []report.Target{{Goal: goal, Measured: strings.Join(parts, "; "), Verdict: report.Verdict(ok)}}
}
