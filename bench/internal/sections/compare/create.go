package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/section"
)

// measure measures each system round-robin. If podman fails, it is
// dropped, with why, here and for the sections after.
func (s *Create) measure(ctx context.Context, env *section.Env, sys systems) ([]*measure.Result, error) {
	srv, tpl, rw := env.Server, s.Config.Template, sys.raw
	creators := []measure.Creator{
		{Name: measure.Runtools, Once: func(ctx context.Context) (measure.Trial, error) { return srv.CreateFirstExec(ctx, tpl) }},
		{Name: measure.RawNet, Once: func(ctx context.Context) (measure.Trial, error) { return rw.CreateFirstExec(ctx, true) }},
		{Name: RawNone, Once: func(ctx context.Context) (measure.Trial, error) { return rw.CreateFirstExec(ctx, false) }},
	}
	if sys.podman != nil {
		creators = append(creators, measure.Creator{Name: measure.Podman, Optional: true, Once: sys.podman.CreateFirstExec})
	}
	rs, err := measure.Create(ctx, creators, s.Config.Runs, createWarmup)
	if err == nil && sys.podman != nil && rs[3].Dropped != "" {
		env.DropPodman(rs[3].Dropped)
	}
	return rs, err
}

// Report renders the systems' table and their phases.
func (s *Create) Report() (report.Part, error) {
	return report.Render(createTemplates, report.Views{Results: s, Lead: lead(s.Config, s.Platform),
		Notes: s.notes(), Targets: s.targets()})
}

func (s *Create) targets() []report.Target {
	var ts []report.Target
	rt, raw, pod := measure.Find(s.Results, measure.Runtools), measure.Find(s.Results, measure.RawNet), measure.Find(s.Results, measure.Podman)
	if rt != nil && raw != nil {
		x := report.Ratio(rt.Samples.P50(), raw.Samples.P50())
		ts = append(ts, report.Target{Goal: "runtools create-to-first-exec p50 within 1.5x of raw runsc (+ netns)",
			Measured: fmt.Sprintf("%s vs %s: %.2fx", report.MS(rt.Samples.P50()), report.MS(raw.Samples.P50()), x), Verdict: report.Verdict(x <= 1.5)})
	}
	goal := "runtools create-to-first-exec p50 faster than podman + runsc"
	if rt == nil || pod == nil {
		return append(ts, report.Target{Goal: goal, Measured: "podman did not run: " + s.PodmanWhy, Verdict: "N/A"})
	}
	return append(ts, report.Target{Goal: goal, Measured: fmt.Sprintf("%s vs %s: %.2fx faster", report.MS(rt.Samples.P50()), report.MS(pod.Samples.P50()),
		report.Ratio(pod.Samples.P50(), rt.Samples.P50())), Verdict: report.Verdict(rt.Samples.P50() < pod.Samples.P50())})
}

// createNotes are the numbers the notes quote: p50s of the totals and of
// phases, 0 where there is none.
type createNotes struct {
	Runtools, Raw                        time.Duration
	NetSetup, RawIP                      time.Duration
	Boot, AgentServing, SeenReady        time.Duration // or, merged,
	RunAgentReady                        time.Duration
	RawRun                               time.Duration
	FirstExec, RawFirstExec              time.Duration
	Teardown                             bool // runtools and raw runsc have teardown times
	RuntoolsDestroy, RawDelete, PodmanRm time.Duration
}

func (s *Create) notes() createNotes {
	phase := func(system, ph string) time.Duration {
		if x := measure.Find(s.Results, system); x != nil {
			return x.Phases.P50(ph)
		}
		return 0
	}
	n := createNotes{
		Runtools: measure.P50(s.Results, measure.Runtools), Raw: measure.P50(s.Results, measure.RawNet),
		NetSetup: phase(measure.Runtools, "record + network setup"), RawIP: phase(measure.RawNet, "netns + veth (3 ip calls)"),
		Boot: phase(measure.Runtools, "runsc run until the agent starts"), AgentServing: phase(measure.Runtools, "agent start until serving"),
		SeenReady: phase(measure.Runtools, "agent serving until seen ready"), RunAgentReady: phase(measure.Runtools, "runsc run + agent ready"),
		RawRun: phase(measure.RawNet, "bundle + runsc run"), FirstExec: phase(measure.Runtools, "first exec"),
		RawFirstExec: phase(measure.RawNet, "first exec (runsc exec)"),
	}
	rt, raw, pod := measure.Find(s.Results, measure.Runtools), measure.Find(s.Results, RawNone), measure.Find(s.Results, measure.Podman)
	if rt != nil && raw != nil && len(rt.Teardown) > 0 && len(raw.Teardown) > 0 {
		n.Teardown, n.RuntoolsDestroy, n.RawDelete = true, rt.Teardown.P50(), raw.Teardown.P50()
		if pod != nil {
			n.PodmanRm = pod.Teardown.P50()
		}
	}
	return n
}
