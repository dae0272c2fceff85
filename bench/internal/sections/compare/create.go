package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/section"
)

// Create measures create to first exec: runtools, raw runsc with and
// without a network, and podman.
type Create struct {
	Config    Config
	Results   []*measure.Result
	PodmanWhy string // why podman is not in the results, if it is not
	Platform  string
}

var _ section.Section = (*Create)(nil)

// Name is "create".
func (s *Create) Name() string { return "create" }

// Run measures each system round-robin. If podman fails, it is dropped,
// with why, here and for the sections after.
func (s *Create) Run(ctx context.Context, env *section.Env) error {
	rw, err := env.Raw(ctx)
	if err != nil {
		return err
	}
	pm, _ := env.Podman(ctx)
	srv, tpl := env.Server, s.Config.Template
	creators := []measure.Creator{
		{Name: measure.Runtools, Once: func(ctx context.Context) (measure.Trial, error) { return srv.CreateFirstExec(ctx, tpl) }},
		{Name: measure.RawNet, Once: func(ctx context.Context) (measure.Trial, error) { return rw.CreateFirstExec(ctx, true) }},
		{Name: RawNone, Once: func(ctx context.Context) (measure.Trial, error) { return rw.CreateFirstExec(ctx, false) }},
	}
	if pm != nil {
		creators = append(creators, measure.Creator{Name: measure.Podman, Optional: true, Once: pm.CreateFirstExec})
	}
	if s.Results, err = measure.Create(ctx, creators, s.Config.Runs, createWarmup); err != nil {
		return err
	}
	if pm != nil && s.Results[3].Dropped != "" {
		env.DropPodman(s.Results[3].Dropped)
	}
	_, s.PodmanWhy = env.Podman(ctx)
	s.Platform = env.Server.Platform
	return nil
}

// Report renders the systems' table and their phases.
func (s *Create) Report() (report.Part, error) {
	r := report.Renderer{T: tmpl}
	p := report.Part{
		Results: r.Do("create.tmpl", s),
		Lead:    lead(&r, s.Config, s.Platform),
		Targets: s.targets(),
		Notes:   report.Lines(r.Do("create_notes.tmpl", s.notes())),
	}
	return p, r.Err
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
