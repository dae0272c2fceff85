package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/runtools/runtools/client"
)

// cycleSection is what one pause/resume or snapshot comparison measured.
type cycleSection struct {
	holdMB  int              // MiB the Node.js process holds beyond its own
	runs    int              // rounds counted
	results []*result        // by system, phases only
	images  map[string]int64 // p50 image size by system name
	skipped string           // why it did not run, if it did not
}

// pauseSystems is one runtools and one raw sandbox running the Node.js
// server, ready to be paused and resumed.
type pauseSystems struct {
	rt     *rtPauser
	raw    *rawPauser
	remove func(context.Context) error // removes both; safe to call twice
}

// startPauseSystems starts both sandboxes (untimed) and registers their
// removal with undo, so they go also on failure or Ctrl-C.
func startPauseSystems(ctx context.Context, undo *undoStack, srv *server, raw *rawRunsc, template string, holdMB int) (*pauseSystems, error) {
	var rmRT, rmRaw func(context.Context) error
	ps := &pauseSystems{}
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
	undo.push(fmt.Sprintf("remove the Node.js sandboxes holding %d MiB", holdMB), ps.remove)

	zero := 0
	sb, err := srv.c.Create(ctx, client.CreateRequest{Template: template, IdleTimeout: &zero})
	if err != nil {
		return nil, fmt.Errorf("creating the runtools Node.js sandbox: %w", err)
	}
	rmRT = removeOnce(func(ctx context.Context) error { return srv.destroy(ctx, sb) })
	if _, err := srv.c.Start(ctx, sb.ID, client.ExecRequest{Cmd: nodeArgs(holdMB)}); err != nil {
		return nil, fmt.Errorf("starting Node.js in %s: %w", sb.ID, err)
	}
	if _, err := waitNode(ctx, sb.IP, holdMB, time.Minute); err != nil {
		return nil, fmt.Errorf("runtools sandbox %s: %w", sb.ID, err)
	}
	ps.rt = &rtPauser{s: srv, sb: sb, holdMB: holdMB}

	box, err := raw.startNode(ctx, holdMB)
	rmRaw = removeOnce(func(ctx context.Context) error { return raw.remove(ctx, box) })
	if err != nil {
		return nil, fmt.Errorf("starting the raw Node.js sandbox: %w", err)
	}
	ps.raw = &rawPauser{r: raw, b: box, holdMB: holdMB, img: filepath.Join(box.dir, "image")}
	return ps, nil
}

// measurePauses runs the pause/resume comparison with the Node.js server
// holding holdMB, and, if snapRuns > 0, the snapshot, rollback and fork
// runs on the same runtools sandbox. The sandboxes are removed after.
func measurePauses(ctx context.Context, undo *undoStack, srv *server, raw *rawRunsc, template string, holdMB, runs, snapRuns int) (pause, snap cycleSection, err error) {
	pause = cycleSection{holdMB: holdMB, runs: runs}
	snap = cycleSection{holdMB: holdMB, runs: snapRuns, skipped: "left out with -snapshot-runs=0"}
	fmt.Fprintf(os.Stderr, "starting the Node.js sandboxes (holding %d MiB)\n", holdMB)
	ps, err := startPauseSystems(ctx, undo, srv, raw, template, holdMB)
	if err != nil {
		return pause, snap, err
	}
	what := fmt.Sprintf("pause/resume (%d MiB)", holdMB)
	pause.results, err = measureCycles(ctx, what, []cycler{ps.rt.cycler(nameRuntools), ps.raw.cycler(nameRawNet)}, runs, 1)
	if err != nil {
		return pause, snap, err
	}
	pause.images = map[string]int64{nameRuntools: median(ps.rt.images), nameRawNet: median(ps.raw.images)}
	if snapRuns > 0 && findCycle(pause.results, nameRuntools) == nil {
		snap.skipped = "the runtools sandbox failed its pause/resume runs"
	} else if snapRuns > 0 {
		sn := &snapshotter{s: srv, sb: ps.rt.sb, holdMB: holdMB}
		snap.skipped = ""
		snap.results, err = measureCycles(ctx, "snapshot/rollback/fork", []cycler{sn.cycler(nameRuntools)}, snapRuns, 1)
		if err != nil {
			return pause, snap, err
		}
		snap.images = map[string]int64{nameRuntools: median(sn.sizes)}
	}
	return pause, snap, ps.remove(ctx)
}

// findCycle returns the result named name, or nil if it is missing,
// dropped or measured nothing.
func findCycle(rs []*result, name string) *result {
	for _, r := range rs {
		if r.name == name && r.dropped == "" && len(r.phases.names) > 0 {
			return r
		}
	}
	return nil
}

// removeOnce returns fn guarded so that only its first call runs it.
func removeOnce(fn func(context.Context) error) func(context.Context) error {
	done := false
	return func(ctx context.Context) error {
		if done {
			return nil
		}
		done = true
		return fn(ctx)
	}
}

// median is the p50 (nearest rank) of sizes; 0 if there are none.
func median(sizes []int64) int64 {
	if len(sizes) == 0 {
		return 0
	}
	s := slices.Clone(sizes)
	slices.Sort(s)
	return s[(len(s)+1)/2-1]
}

// measurePauseSections runs the pause/resume comparison with the small
// and (unless left out) the large Node.js process, and the snapshot runs,
// into rep.
func measurePauseSections(ctx context.Context, undo *undoStack, rep *report, srv *server, raw *rawRunsc) error {
	cfg := rep.cfg
	t := time.Now()
	var err error
	rep.pause, rep.snap, err = measurePauses(ctx, undo, srv, raw, cfg.template, 0, cfg.pauseRuns, cfg.snapRuns)
	if err != nil {
		return fmt.Errorf("pause/resume: %w", err)
	}
	rep.pauseTook = time.Since(t)
	rep.big = cycleSection{holdMB: cfg.bigMB, runs: cfg.bigRuns, skipped: "left out with -big-runs=0"}
	if cfg.bigRuns == 0 {
		return nil
	}
	t = time.Now()
	if rep.big, _, err = measurePauses(ctx, undo, srv, raw, cfg.template, cfg.bigMB, cfg.bigRuns, 0); err != nil {
		return fmt.Errorf("pause/resume with %d MiB: %w", cfg.bigMB, err)
	}
	rep.bigTook = time.Since(t)
	return nil
}
