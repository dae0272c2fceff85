package proxy

import (
	"embed"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/report"
)

// Report renders the load tables, the wake table and the targets.
func (s *Section) Report() (report.Part, error) {
	method := methodView{Config: s.Config, NodePort: node.Port, Warmup: loadWarmup}
	return report.Render(templates, report.Views{Results: s.view(), Method: method, Targets: s.targets()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

type methodView struct {
	Config
	NodePort int
	Warmup   time.Duration
}

// resultsView is the section with what its text compares worked out.
type resultsView struct {
	*Section
	All         []LoadResult // the loads with many connections, then one
	Comparisons []comparison
	PauseResume time.Duration // the pause section's runtools resume p50; 0 if none
}

// comparison is what the proxy costs under one load.
type comparison struct {
	Conns          int
	Kept           float64 // % of the direct throughput
	AddP50, AddP99 time.Duration
}

// Connections says how many connections the load had, in words.
func (c comparison) Connections() string { return connections(c.Conns) }

func (s *Section) view() resultsView {
	v := resultsView{Section: s, All: append(append([]LoadResult{}, s.Load...), s.Seq...)}
	for _, rs := range [][]LoadResult{s.Load, s.Seq} {
		if len(rs) == 2 && rs[0].Requests > 0 {
			d, p := rs[0], rs[1]
			v.Comparisons = append(v.Comparisons, comparison{d.Conns, 100 * p.RPS() / d.RPS(),
				p.Lat.P50() - d.Lat.P50(), p.Lat.P99() - d.Lat.P99()})
		}
	}
	if s.Pause != nil {
		v.PauseResume = s.Pause.RuntoolsResumeP50()
	}
	return v
}

// targets are the goals for the dev-server proxy.
func (s *Section) targets() []report.Target {
	goals := []string{
		fmt.Sprintf("the proxy keeps >= 80%% of the direct throughput (%d connections)", s.Config.Conns),
		fmt.Sprintf("the proxy adds < 2 ms at p99 (%d connections, the same load)", s.Config.Conns),
		"(extra) the proxy adds < 2 ms at p99 (1 connection, one request at a time)",
	}
	if s.Skipped != "" || len(s.Load) != 2 || len(s.Seq) != 2 {
		why := s.Skipped
		if why == "" {
			why = "no load results"
		}
		var ts []report.Target
		for _, g := range goals {
			ts = append(ts, report.NotMeasured(g, report.OneLine(why)))
		}
		return ts
	}
	d, p := s.Load[0], s.Load[1]
	x := p.RPS() / d.RPS()
	added := p.Lat.P99() - d.Lat.P99()
	sd, sp := s.Seq[0], s.Seq[1]
	sadded := sp.Lat.P99() - sd.Lat.P99()
	return []report.Target{
		{Goal: goals[0], Measured: fmt.Sprintf("%.0f vs %.0f requests/s: %.0f%%", p.RPS(), d.RPS(), 100*x), Verdict: report.Verdict(x >= 0.8)},
		{Goal: goals[1], Measured: fmt.Sprintf("p99 %s vs %s: %s added", report.MS2(p.Lat.P99()), report.MS2(d.Lat.P99()), report.MS2(added)),
			Verdict: report.Verdict(added < 2*time.Millisecond)},
		{Goal: goals[2], Measured: fmt.Sprintf("p99 %s vs %s: %s added", report.MS2(sp.Lat.P99()), report.MS2(sd.Lat.P99()), report.MS2(sadded)),
			Verdict: report.Verdict(sadded < 2*time.Millisecond)},
	}
}
