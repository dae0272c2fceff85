// Package pause is the pause/resume section: runtools against a raw
// `runsc checkpoint` and `runsc restore` of a sandbox running a Node.js
// HTTP server, small and holding a large Buffer, and snapshot, rollback
// and fork of the runtools one.
package pause

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/raw"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Runs      int // pause/resume runs per system
	SnapRuns  int // snapshot, rollback and fork runs; 0 leaves them out
	BigRuns   int // runs with the large process; 0 leaves them out
	BigMB     int // MiB of random data the large process holds
	Template  string
	RawBridge string // for the method
}

// Section is the pause/resume section.
type Section struct {
	Config           Config
	Pause, Big, Snap Cycle // the small and the large process; snapshots
	PauseTook        time.Duration
	BigTook          time.Duration
}

// Cycle is what one pause/resume or snapshot comparison measured.
type Cycle struct {
	HoldMB  int               // MiB the Node.js process holds beyond its own
	Runs    int               // rounds counted
	Results []*measure.Result // by system, phases only
	Images  map[string]int64  // p50 image size by system name
	Skipped string            // why it did not run, if it did not
}

var _ section.Section = (*Section)(nil)

// Name is "pause".
func (s *Section) Name() string { return "pause" }

// Run runs the comparison with the small and (unless left out) the large
// Node.js process, and the snapshot runs.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	rw, err := env.Raw(ctx)
	if err != nil {
		return err
	}
	cfg := s.Config
	t := time.Now()
	if s.Pause, s.Snap, err = measurePauses(ctx, env, rw, cfg.Template, 0, cfg.Runs, cfg.SnapRuns); err != nil {
		return fmt.Errorf("pause/resume: %w", err)
	}
	s.PauseTook = time.Since(t)
	s.Big = Cycle{HoldMB: cfg.BigMB, Runs: cfg.BigRuns, Skipped: "left out with -big-runs=0"}
	if cfg.BigRuns == 0 {
		return nil
	}
	t = time.Now()
	if s.Big, _, err = measurePauses(ctx, env, rw, cfg.Template, cfg.BigMB, cfg.BigRuns, 0); err != nil {
		return fmt.Errorf("pause/resume with %d MiB: %w", cfg.BigMB, err)
	}
	s.BigTook = time.Since(t)
	return nil
}

// RuntoolsResumeP50 is the p50 of the runtools resume with the small
// process; 0 if it was not measured.
func (s *Section) RuntoolsResumeP50() time.Duration {
	return measure.PhaseP50(s.Pause.Results, measure.Runtools, server.PhResume)
}

// systems is one runtools and one raw sandbox running the Node.js server,
// ready to be paused and resumed.
type systems struct {
	rt     *rtPauser
	raw    *rawPauser
	remove func(context.Context) error // removes both; safe to call twice
}

// startSystems starts both sandboxes (untimed) and registers their
// removal with undo, so they go also on failure or Ctrl-C.
func startSystems(ctx context.Context, env *section.Env, rw *raw.Runsc, template string, holdMB int) (*systems, error) {
	var rmRT, rmRaw func(context.Context) error
	ps := &systems{}
	ps.remove = func(ctx context.Context) error {
		var errs []error
		if rmRaw != nil {
			errs = append(errs, rmRaw(ctx))
		}
		if rmRT != nil {
			errs = append(errs, rmRT(ctx))
		}
		return errors.Join(errs...)
	}
	env.Undo.Push(fmt.Sprintf("remove the Node.js sandboxes holding %d MiB", holdMB), ps.remove)

	srv := env.Server
	sb, err := srv.CreateIdle(ctx, template)
	if err != nil {
		return nil, fmt.Errorf("creating the runtools Node.js sandbox: %w", err)
	}
	rmRT = host.Once(func(ctx context.Context) error { return srv.Destroy(ctx, sb) })
	if err := startNode(ctx, srv, sb.ID, sb.IP, holdMB); err != nil {
		return nil, err
	}
	ps.rt = &rtPauser{s: srv, sb: sb, holdMB: holdMB}

	box, err := rw.StartNode(ctx, holdMB)
	rmRaw = host.Once(func(ctx context.Context) error { return rw.Remove(ctx, box) })
	if err != nil {
		return nil, fmt.Errorf("starting the raw Node.js sandbox: %w", err)
	}
	ps.raw = &rawPauser{r: rw, b: box, holdMB: holdMB, img: filepath.Join(box.Dir, "image")}
	return ps, nil
}

// measurePauses runs the pause/resume comparison with the Node.js server
// holding holdMB, and, if snapRuns > 0, the snapshot, rollback and fork
// runs on the same runtools sandbox. The sandboxes are removed after.
func measurePauses(ctx context.Context, env *section.Env, rw *raw.Runsc, template string, holdMB, runs, snapRuns int) (pause, snap Cycle, err error) {
	pause = Cycle{HoldMB: holdMB, Runs: runs}
	snap = Cycle{HoldMB: holdMB, Runs: snapRuns, Skipped: "left out with -snapshot-runs=0"}
	fmt.Fprintf(os.Stderr, "starting the Node.js sandboxes (holding %d MiB)\n", holdMB)
	ps, err := startSystems(ctx, env, rw, template, holdMB)
	if err != nil {
		return pause, snap, err
	}
	what := fmt.Sprintf("pause/resume (%d MiB)", holdMB)
	pause.Results, err = measure.Cycles(ctx, what, []measure.Cycler{ps.rt.cycler(measure.Runtools), ps.raw.cycler(measure.RawNet)}, runs, 1)
	if err != nil {
		return pause, snap, err
	}
	pause.Images = map[string]int64{measure.Runtools: ps.rt.images.Median(), measure.RawNet: ps.raw.images.Median()}
	if snapRuns > 0 && measure.FindCycle(pause.Results, measure.Runtools) == nil {
		snap.Skipped = "the runtools sandbox failed its pause/resume runs"
	} else if snapRuns > 0 {
		sn := &snapshotter{s: env.Server, sb: ps.rt.sb, holdMB: holdMB}
		snap.Skipped = ""
		snap.Results, err = measure.Cycles(ctx, "snapshot/rollback/fork", []measure.Cycler{sn.cycler(measure.Runtools)}, snapRuns, 1)
		if err != nil {
			return pause, snap, err
		}
		snap.Images = map[string]int64{measure.Runtools: sn.sizes.Median()}
	}
	return pause, snap, ps.remove(ctx)
}

// startNode starts the Node.js server in runtools sandbox id at ip and
// waits until it answers.
func startNode(ctx context.Context, srv *server.Server, id, ip string, holdMB int) error {
	if _, err := srv.Client.Start(ctx, id, client.ExecRequest{Cmd: node.Args(holdMB)}); err != nil {
		return fmt.Errorf("starting Node.js in %s: %w", id, err)
	}
	if _, err := node.Wait(ctx, ip, holdMB, time.Minute); err != nil {
		return fmt.Errorf("runtools sandbox %s: %w", id, err)
	}
	return nil
}
