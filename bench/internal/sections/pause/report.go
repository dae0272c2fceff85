package pause

import (
	"embed"
	"fmt"
	"slices"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Report renders the three comparisons, their targets and notes.
func (s *Section) Report() (report.Part, error) {
	method := methodView{Config: s.Config, NodePort: node.Port, BigMB: s.Big.HoldMB,
		PauseRuns: s.Pause.Runs, BigRuns: s.Big.Runs, SnapRuns: s.Snap.Runs}
	return report.Render(templates, report.Views{Results: s, Method: method, Notes: s.notes(), Targets: s.targets()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

// methodView is what the method says.
type methodView struct {
	Config
	NodePort, BigMB              int
	PauseRuns, BigRuns, SnapRuns int
}

// headlines are the operations the tables show first, in this order;
// every other phase goes into "where the time goes".
var headlines = []string{server.PhPause, PhCheckpoint, PhFullStop, server.PhResume, PhRawResume, phSnapshot, phRollback, phFork}

// tables is a cycle's tables, rows ready.
type tables struct {
	Headline, Parts []row
	Dropped         []*measure.Result
	SizesWhat       string
	Sizes           []size
}

type row struct {
	System, Phase string
	S             stats.Samples
}

type size struct {
	System string
	Bytes  int64
}

// Tables lays out the cycle's headline table, its image sizes (what the
// sizes are called) and its phase table.
func (c Cycle) Tables(sizesWhat string) tables {
	t := tables{SizesWhat: sizesWhat}
	for _, h := range headlines {
		for _, res := range c.Results {
			if s, ok := res.Phases.By[h]; ok && res.Dropped == "" {
				t.Headline = append(t.Headline, row{res.Name, h, s})
			}
		}
	}
	for _, res := range c.Results {
		if res.Dropped != "" {
			t.Dropped = append(t.Dropped, res)
		}
		if n := c.Images[res.Name]; n > 0 {
			t.Sizes = append(t.Sizes, size{res.Name, n})
		}
		for _, name := range res.Phases.Names {
			if !slices.Contains(headlines, name) {
				t.Parts = append(t.Parts, row{res.Name, name, res.Phases.By[name]})
			}
		}
	}
	return t
}

// rtPhases are the p50s of a runtools pause and resume's phases.
type rtPhases struct {
	Pause, Written, Sealed, Recorded, PauseTook time.Duration
	Resume, Prepare, Restore, Ready, FirstGet   time.Duration
}

func runtoolsP50s(c Cycle) rtPhases {
	p := func(ph string) time.Duration { return measure.PhaseP50(c.Results, measure.Runtools, ph) }
	rn := server.RestorePhaseNames("resume")
	return rtPhases{
		Pause: p(server.PhPause), Written: p(server.PauseImagePhases[0]), Sealed: p(server.PauseImagePhases[1]),
		Recorded: p(server.PauseImagePhases[2]), PauseTook: p(server.PhPauseTook),
		Resume: p(server.PhResume), Prepare: p(rn.Prepare), Restore: p(rn.Restore), Ready: p(rn.Ready), FirstGet: p(PhFirstGet),
	}
}

// rawPhases are the p50s of a raw pause and resume's phases.
type rawPhases struct {
	Checkpoint, FullStop, WaitStopped, Delete time.Duration
	Resume, Readdress, Restore, FirstGet      time.Duration
}

func rawP50s(c Cycle) rawPhases {
	p := func(ph string) time.Duration { return measure.PhaseP50(c.Results, measure.RawNet, ph) }
	return rawPhases{
		Checkpoint: p(PhCheckpoint), FullStop: p(PhFullStop), WaitStopped: p(PhWaitStopped), Delete: p(PhDelete),
		Resume: p(PhRawResume), Readdress: p(PhReaddress), Restore: p(PhRestore), FirstGet: p(PhFirstGet),
	}
}

// targets are the goals for pause and resume.
func (s *Section) targets() []report.Target {
	rt, raw := runtoolsP50s(s.Pause), rawP50s(s.Pause)
	why := s.Pause.Skipped
	if why == "" {
		why = "a system was dropped; see the table"
	}
	var ts []report.Target
	goal := "runtools pause p50 <= 1.2x raw `runsc checkpoint` p50"
	if rt.Pause > 0 && raw.Checkpoint > 0 {
		x := report.Ratio(rt.Pause, raw.Checkpoint)
		ts = append(ts, report.Target{Goal: goal, Measured: fmt.Sprintf("%s vs %s: %.2fx", report.MS(rt.Pause), report.MS(raw.Checkpoint), x), Verdict: report.Verdict(x <= 1.2)})
	} else {
		ts = append(ts, report.NotMeasured(goal, why))
	}
	goal = "runtools resume p50 <= 1.2x raw `runsc restore` p50"
	if rt.Resume > 0 && raw.Resume > 0 {
		x := report.Ratio(rt.Resume, raw.Resume)
		ts = append(ts, report.Target{Goal: goal, Measured: fmt.Sprintf("%s vs %s (re-address eth0 + `runsc restore`, as the daemon must too): %.2fx; against `runsc restore` alone (%s): %.2fx",
			report.MS(rt.Resume), report.MS(raw.Resume), x, report.MS(raw.Restore), report.Ratio(rt.Resume, raw.Restore)), Verdict: report.Verdict(x <= 1.2)})
	} else {
		ts = append(ts, report.NotMeasured(goal, why))
	}
	goal = "runtools resume p50 < 500 ms"
	if rt.Resume > 0 {
		ts = append(ts, report.Target{Goal: goal, Measured: report.MS(rt.Resume), Verdict: report.Verdict(rt.Resume < 500*time.Millisecond)})
	} else {
		ts = append(ts, report.NotMeasured(goal, why))
	}
	return ts
}

// notesView is what the notes quote.
type notesView struct {
	RT                 rtPhases
	Raw                rawPhases
	RTImage, RawImage  int64
	Big                *bigView    // nil unless the large case has all four figures
	Snap               *snapPhases // nil if the snapshots were not measured
	PauseTook, BigTook time.Duration
}

// bigView is what the large case adds.
type bigView struct {
	HoldMB            int
	RT                rtPhases
	Raw               rawPhases
	RTImage, RawImage int64
}

// Slow is whether the runtools checkpoint took over 3 times the raw one,
// as it does at times.
func (b *bigView) Slow() bool { return b.RT.Written > 3*b.Raw.Checkpoint }

// snapPhases are the p50s of the snapshot, rollback and fork phases.
type snapPhases struct {
	Snapshot, Written, Sealed time.Duration
	Rollback, Fork            time.Duration
	RollbackParts, ForkParts  restoreParts
}

type restoreParts struct{ Prepare, Restore, Ready time.Duration }

func (s *Section) notes() notesView {
	v := notesView{RT: runtoolsP50s(s.Pause), Raw: rawP50s(s.Pause),
		PauseTook: s.PauseTook, BigTook: s.BigTook,
		RTImage: s.Pause.Images[measure.Runtools], RawImage: s.Pause.Images[measure.RawNet]}
	if b := s.Big; b.Skipped == "" {
		bv := &bigView{HoldMB: b.HoldMB, RT: runtoolsP50s(b), Raw: rawP50s(b), RTImage: b.Images[measure.Runtools], RawImage: b.Images[measure.RawNet]}
		if bv.RT.Pause > 0 && bv.Raw.Checkpoint > 0 && bv.RT.Resume > 0 && bv.Raw.Resume > 0 {
			v.Big = bv
		}
	}
	if sn := s.Snap; sn.Skipped == "" {
		p := func(ph string) time.Duration { return measure.PhaseP50(sn.Results, measure.Runtools, ph) }
		parts := func(op string) restoreParts {
			n := server.RestorePhaseNames(op)
			return restoreParts{p(n.Prepare), p(n.Restore), p(n.Ready)}
		}
		v.Snap = &snapPhases{Snapshot: p(phSnapshot), Written: p(server.SnapshotImagePhases[0]), Sealed: p(server.SnapshotImagePhases[1]),
			Rollback: p(phRollback), Fork: p(phFork), RollbackParts: parts("rollback"), ForkParts: parts("fork")}
	}
	return v
}
