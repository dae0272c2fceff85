package main

import (
	"context"
	"fmt"
	"os"
)

// op is one timed operation of a cycle (pause, resume, snapshot, ...). It
// returns what it measured as named phases: the operation itself and,
// where it can tell, its parts.
type op func(context.Context) ([]phase, error)

// cycler is one system in the pause/resume or snapshot comparison: every
// round runs its ops once, in order, on the same long-lived sandbox.
type cycler struct {
	name string
	ops  []op
}

// measureCycles runs warmup+runs rounds, round-robin like measureCreate:
// each round runs every system's ops, starting with a different system
// each round, and every op starts after the same idle gap. A system that
// fails is dropped, with the reason, so that the others' numbers and the
// report survive; its sandbox is removed by the bench's cleanup.
func measureCycles(ctx context.Context, what string, systems []cycler, runs, warmup int) ([]*result, error) {
	results := newResults(len(systems), func(i int) string { return systems[i].name })
	for round := -warmup; round < runs; round++ {
		for k := range systems {
			i := (k + round + warmup) % len(systems)
			sys, res := systems[i], results[i]
			if res.dropped != "" {
				continue
			}
			for _, o := range sys.ops {
				if err := settle(ctx); err != nil {
					return results, err
				}
				phases, err := o(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return results, fmt.Errorf("%s: %w", sys.name, err)
					}
					res.dropped = fmt.Sprintf("failed in round %d: %v", round+1, err)
					fmt.Fprintf(os.Stderr, "\nbench: dropping %s from %s: %v\n", sys.name, what, err)
					break
				}
				if round >= 0 {
					res.phases.add(phases)
				}
			}
		}
		progress(what, round, warmup, runs)
	}
	return results, nil
}
