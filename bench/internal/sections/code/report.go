package code

import (
	"embed"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
)

// Report renders the warm calls' table, the fresh sandbox table, the
// run_code target and the method.
func (s *Section) Report() (report.Part, error) {
	return report.Render(templates, report.Views{Results: s, Method: methodView{s.Config, batchOf(s.Config.Runs), maxOverExec},
		Targets: s.targets()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

type methodView struct {
	Config
	Batch       int
	MaxOverExec time.Duration
}

// maxOverExec is the target: run_code of a trivial cell on a warm
// kernel costs at most this much more than exec of `true`, at p50.
const maxOverExec = 15 * time.Millisecond

// batchOf is the size of the warm rounds' batches for runs runs.
func batchOf(runs int) int { return min(warmBatch, runs) }

// Ratio is a call's p50 and p99 over another's.
type Ratio struct{ P50, P99 float64 }

// PythonOverGo is the Python SDK's exec over the Go SDK's; nil unless
// both have samples.
func (s *Section) PythonOverGo() *Ratio {
	g, p := measure.Find(s.Warm, nameGoExec), measure.Find(s.Warm, namePyExec)
	if g == nil || p == nil {
		return nil
	}
	return &Ratio{report.Ratio(p.Samples.P50(), g.Samples.P50()), report.Ratio(p.Samples.P99(), g.Samples.P99())}
}

// CodeOverExec is run_code's p50 minus exec's through the Go SDK, and
// whether both have samples.
func (s *Section) CodeOverExec() (time.Duration, bool) {
	g, c := measure.Find(s.Warm, nameGoExec), measure.Find(s.Warm, nameRunCode)
	if g == nil || c == nil {
		return 0, false
	}
	return c.Samples.P50() - g.Samples.P50(), true
}

// Overhead is CodeOverExec's difference, for the template.
func (s *Section) Overhead() time.Duration { d, _ := s.CodeOverExec(); return d }

func (s *Section) targets() []report.Target {
	goal := fmt.Sprintf("run_code of `1+1` on a warm kernel p50 <= exec of `true` p50 + %s, same sandbox, alternating", report.MS(maxOverExec))
	if s.Skipped != "" {
		return []report.Target{report.NotMeasured(goal, report.OneLine(s.Skipped))}
	}
	d, ok := s.CodeOverExec()
	if !ok {
		return []report.Target{report.NotMeasured(goal, "no samples")}
	}
	g, c := measure.Find(s.Warm, nameGoExec), measure.Find(s.Warm, nameRunCode)
	limit := g.Samples.P50() + maxOverExec
	return []report.Target{{Goal: goal,
		Measured: fmt.Sprintf("%s vs %s + %s = %s", report.MS(c.Samples.P50()), report.MS(g.Samples.P50()), report.MS(maxOverExec), report.MS(limit)),
		Verdict:  report.Verdict(d <= maxOverExec)}}
}
