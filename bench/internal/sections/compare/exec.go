package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/podman"
	"github.com/runtools/runtools/bench/internal/raw"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
)

// measure starts a long-lived sandbox for each system besides the bench's
// warm runtools one, and measures them round-robin.
func (s *Exec) measure(ctx context.Context, env *section.Env, sys systems) ([]*measure.Result, error) {
	execers, err := warmExecers(ctx, env, sys.raw, sys.podman)
	if err != nil {
		return nil, err
	}
	return measure.Exec(ctx, execers, s.Config.ExecRuns, execWarmup)
}

// warmExecers starts the long-lived raw and podman sandboxes and returns
// what the warm exec comparison runs against them and the runtools one.
func warmExecers(ctx context.Context, env *section.Env, rw *raw.Runsc, pm *podman.Podman) ([]measure.Execer, error) {
	srv, id := env.Server, env.Warm.ID
	agent, err := srv.Agent(ctx, id)
	if err != nil {
		return nil, err
	}
	env.Undo.Push("close the agent client", func(context.Context) error { agent.Close(); return nil })
	box, _, err := rw.Start(ctx, true)
	env.Undo.Push("remove the warm raw sandbox", func(ctx context.Context) error { return rw.Remove(ctx, box) })
	if err != nil {
		return nil, fmt.Errorf("starting the warm raw sandbox: %w", err)
	}
	execers := []measure.Execer{
		{Name: measure.Runtools, Once: measure.Timed(func(ctx context.Context) error { return srv.ExecTrue(ctx, id) })},
		{Name: Agent, Once: measure.Timed(func(ctx context.Context) error { return server.AgentExecTrue(ctx, agent) })},
		{Name: measure.RawNet, Once: measure.Timed(func(ctx context.Context) error { return rw.Exec(ctx, box) })},
		{Name: Spawn, Once: func(ctx context.Context) (time.Duration, error) {
			d, err := agent.Spawn(ctx, 1)
			if err != nil {
				return 0, fmt.Errorf("spawn: %w", err)
			}
			if len(d) != 1 {
				return 0, fmt.Errorf("spawn: %d results for n=1", len(d))
			}
			return d[0], nil
		}},
	}
	if pm != nil {
		pid, err := pm.Start(ctx)
		if err != nil {
			return nil, fmt.Errorf("starting the warm podman container: %w", err)
		}
		env.Undo.Push("remove the warm podman container", func(ctx context.Context) error { return pm.Remove(ctx, pid) })
		execers = append(execers, measure.Execer{Name: measure.Podman, Optional: true,
			Once: measure.Timed(func(ctx context.Context) error { return pm.Exec(ctx, pid) })})
	}
	return execers, nil
}

// Runtools is the runtools result, or nil if the section did not run or
// it was dropped.
func (s *Exec) Runtools() *measure.Result { return measure.Find(s.Results, measure.Runtools) }

// Report renders the systems' table.
func (s *Exec) Report() (report.Part, error) {
	return report.Render(execTemplates, report.Views{Results: s, Lead: lead(s.Config, s.Platform),
		Notes: s.notes(), Targets: s.targets()})
}

func (s *Exec) targets() []report.Target {
	var ts []report.Target
	rt, spawn, raw := measure.Find(s.Results, measure.Runtools), measure.Find(s.Results, Spawn), measure.Find(s.Results, measure.RawNet)
	if rt != nil && spawn != nil {
		limit := spawn.Samples.P50() + 3*time.Millisecond
		ts = append(ts, report.Target{Goal: "runtools exec p50 <= in-sandbox spawn p50 + 3 ms",
			Measured: fmt.Sprintf("%s vs %s + 3 ms = %s", report.MS(rt.Samples.P50()), report.MS(spawn.Samples.P50()), report.MS(limit)),
			Verdict:  report.Verdict(rt.Samples.P50() <= limit)})
	}
	if rt != nil && raw != nil {
		x := report.Ratio(raw.Samples.P50(), rt.Samples.P50())
		ts = append(ts, report.Target{Goal: "runtools exec p50 >= 2.5x faster than `runsc exec` p50",
			Measured: fmt.Sprintf("%s vs %s: %.2fx faster", report.MS(rt.Samples.P50()), report.MS(raw.Samples.P50()), x), Verdict: report.Verdict(x >= 2.5)})
	}
	return ts
}

// execNotes are the p50s the note quotes, 0 where there is none.
type execNotes struct{ Runtools, Agent, Spawn time.Duration }

func (s *Exec) notes() execNotes {
	return execNotes{measure.P50(s.Results, measure.Runtools), measure.P50(s.Results, Agent), measure.P50(s.Results, Spawn)}
}
