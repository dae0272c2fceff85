package measure

import (
	"context"
	"fmt"
	"os"

	"github.com/runtools/runtools/bench/internal/stats"
)

// Op is one timed operation of a cycle (pause, resume, snapshot, ...). It
// returns what it measured as named phases: the operation itself and,
// where it can tell, its parts.
type Op func(context.Context) ([]stats.Phase, error)

// Cycler is one system in a pause/resume or snapshot comparison: every
// round runs its ops once, in order, on the same long-lived sandbox.
type Cycler struct {
	Name string
	Ops  []Op
}

// Cycles runs warmup+runs rounds, round-robin like Create: each round runs
// every system's ops, starting with a different system each round, and
// every op starts after the same idle gap. A system that fails is dropped,
// with the reason, so that the others' numbers and the report survive;
// its sandbox is removed by the bench's cleanup.
func Cycles(ctx context.Context, what string, systems []Cycler, runs, warmup int) ([]*Result, error) {
	return roundRobin(what, systems, runs, warmup, func(sys Cycler, res *Result, round int) error {
		return cycleOnce(ctx, what, sys, res, round)
	})
}

// cycleOnce runs sys's ops once, each after the settle gap, recording
// their phases unless round is a warm-up one.
func cycleOnce(ctx context.Context, what string, sys Cycler, res *Result, round int) error {
	for _, o := range sys.Ops {
		if err := Settle(ctx); err != nil {
			return err
		}
		phases, err := o(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", sys.Name, err)
			}
			res.Dropped = fmt.Sprintf("failed in round %d: %v", round+1, err)
			fmt.Fprintf(os.Stderr, "\nbench: dropping %s from %s: %v\n", sys.Name, what, err)
			return nil
		}
		if round >= 0 {
			res.Phases.Add(phases)
		}
	}
	return nil
}
