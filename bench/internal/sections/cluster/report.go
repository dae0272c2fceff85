package cluster

import (
	"embed"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Report renders the section's tables, targets and method.
func (s *Section) Report() (report.Part, error) {
	return report.Render(templates, report.Views{Results: s, Method: methodView{s.Config, lease, quiet, nodeSubnets[:]}, Targets: s.targets()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

// methodView is what the method says.
type methodView struct {
	Config
	Lease   string
	Quiet   time.Duration
	Subnets []string
}

// Bursts are the two bursts of creates, one node first.
func (s *Section) Bursts() []Burst { return []Burst{s.One, s.Three} }

// Added is what forwarding adds to an exec at p50 and p99, and whether
// both paths have samples.
type Added struct {
	P50, P99 time.Duration
	OK       bool
}

// ForwardAdded is the forwarded exec's p50 and p99 minus the owner's.
func (s *Section) ForwardAdded() Added {
	o, f := measure.Find(s.Forward, nameOwner), measure.Find(s.Forward, nameForwarded)
	if o == nil || f == nil {
		return Added{}
	}
	return Added{f.Samples.P50() - o.Samples.P50(), f.Samples.P99() - o.Samples.P99(), true}
}

// MoveOverLocal is the cross-node resume's p50 over the local one's, and
// the difference; 0 unless both have samples.
func (s *Section) MoveOverLocal() (float64, time.Duration) {
	m, l := s.Moves.Get(phMove), s.Moves.Get(phLocal)
	if len(m) == 0 || len(l) == 0 {
		return 0, 0
	}
	return report.Ratio(m.P50(), l.P50()), m.P50() - l.P50()
}

// MoveRatio is MoveOverLocal's ratio, for the template.
func (s *Section) MoveRatio() float64 { r, _ := s.MoveOverLocal(); return r }

// MoveExtra is MoveOverLocal's difference, for the template.
func (s *Section) MoveExtra() time.Duration { _, d := s.MoveOverLocal(); return d }

// PhaseRows are the move table's rows, in the order measured.
func (s *Section) PhaseRows() []PhaseRow {
	var rows []PhaseRow
	for _, n := range s.Moves.Names {
		rows = append(rows, PhaseRow{n, s.Moves.By[n]})
	}
	return rows
}

// PhaseRow is one row of the move table.
type PhaseRow struct {
	Name string
	S    stats.Samples
}

// targets are the checks that nothing failed: the creates at once, and
// the drain.
func (s *Section) targets() []report.Target {
	creates := fmt.Sprintf("%d sandboxes created at once (each then running `true`) without a failure, on 1 node and on 3", s.Config.Creates)
	drain := fmt.Sprintf("a drain moves all %d sandboxes of a node, each running on another", s.Config.Drain)
	if s.Skipped != "" {
		why := report.OneLine(s.Skipped)
		return []report.Target{report.NotMeasured(creates, why), report.NotMeasured(drain, why)}
	}
	failed := "failed: " + report.OneLine(s.Failed)
	out := []report.Target{report.NotMeasured(creates, failed), report.NotMeasured(drain, failed)}
	if s.One.Sandboxes > 0 && s.Three.Sandboxes > 0 {
		out[0] = report.Target{Goal: creates, Measured: fmt.Sprintf("%d and %d failed", s.One.Failures, s.Three.Failures),
			Verdict: report.Verdict(s.One.Failures == 0 && s.Three.Failures == 0)}
	}
	if d := s.Drain; d.Sandboxes > 0 {
		out[1] = report.Target{Goal: drain, Measured: fmt.Sprintf("%d of %d moved, %d failed", d.Moved, d.Sandboxes, d.Failed),
			Verdict: report.Verdict(d.Moved == d.Sandboxes && d.Failed == 0)}
	}
	return out
}
