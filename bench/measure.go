package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// trial is one create-to-first-exec measurement.
type trial struct {
	total  time.Duration
	phases []phase
	remove func(context.Context) error // undoes what the trial made; may be nil
}

// creator is one system in the create-to-first-exec comparison.
type creator struct {
	name     string
	optional bool // on failure, drop it and say why instead of stopping
	once     func(context.Context) (trial, error)
}

// execer is one system in the warm exec comparison; once returns the
// duration to record.
type execer struct {
	name     string
	optional bool
	once     func(context.Context) (time.Duration, error)
}

// result is what one system measured.
type result struct {
	name     string
	s        samples
	phases   phaseSet
	teardown samples
	dropped  string // why the system was dropped, if it was
}

// timed wraps an action so that its wall time is what is recorded.
func timed(f func(context.Context) error) func(context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		t := time.Now()
		err := f(ctx)
		return time.Since(t), err
	}
}

// measureCreate runs warmup+runs rounds. Each round runs every system
// once, one after another, starting with a different system each round, so
// background noise and cache effects fall on all of them alike. Each
// sandbox is removed, untimed, before the next trial starts.
func measureCreate(ctx context.Context, systems []creator, runs, warmup int) ([]*result, error) {
	results := newResults(len(systems), func(i int) string { return systems[i].name })
	for round := -warmup; round < runs; round++ {
		for k := range systems {
			i := (k + round + warmup) % len(systems)
			sys, res := systems[i], results[i]
			if res.dropped != "" {
				continue
			}
			if err := settle(ctx); err != nil {
				return results, err
			}
			tr, err := sys.once(ctx)
			if tr.remove != nil {
				t := time.Now()
				rerr := tr.remove(ctx)
				if err == nil && rerr != nil {
					err = fmt.Errorf("removing: %w", rerr)
				}
				if err == nil && round >= 0 {
					res.teardown = append(res.teardown, time.Since(t))
				}
			}
			if err != nil {
				if sys.optional && ctx.Err() == nil {
					res.dropped = err.Error()
					fmt.Fprintf(os.Stderr, "bench: dropping %s: %v\n", sys.name, err)
					continue
				}
				return results, fmt.Errorf("%s: %w", sys.name, err)
			}
			if round >= 0 {
				res.s = append(res.s, tr.total)
				res.phases.add(tr.phases)
			}
		}
		progress("create-to-first-exec", round, warmup, runs)
	}
	return results, nil
}

// measureExec runs the warm exec comparison, round-robin like measureCreate.
func measureExec(ctx context.Context, systems []execer, runs, warmup int) ([]*result, error) {
	results := newResults(len(systems), func(i int) string { return systems[i].name })
	for round := -warmup; round < runs; round++ {
		for k := range systems {
			i := (k + round + warmup) % len(systems)
			sys, res := systems[i], results[i]
			if res.dropped != "" {
				continue
			}
			if err := settle(ctx); err != nil {
				return results, err
			}
			d, err := sys.once(ctx)
			if err != nil {
				if sys.optional && ctx.Err() == nil {
					res.dropped = err.Error()
					fmt.Fprintf(os.Stderr, "bench: dropping %s: %v\n", sys.name, err)
					continue
				}
				return results, fmt.Errorf("%s: %w", sys.name, err)
			}
			if round >= 0 {
				res.s = append(res.s, d)
			}
		}
		progress("warm exec", round, warmup, runs)
	}
	return results, nil
}

// settleTime is the idle gap before every trial, so that what one system
// leaves running for a moment after its trial (podman's conmon, a runsc
// process exiting, a sandbox's reaper) does not land on the next system's
// measurement. Every system gets the same gap.
var settleTime = 50 * time.Millisecond

func settle(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settleTime):
		return nil
	}
}

func newResults(n int, name func(int) string) []*result {
	out := make([]*result, n)
	for i := range out {
		out[i] = &result{name: name(i)}
	}
	return out
}

// progress shows on stderr which round has finished.
func progress(what string, round, warmup, runs int) {
	if round < 0 {
		fmt.Fprintf(os.Stderr, "\r%s: warm-up %d/%d   ", what, round+warmup+1, warmup)
		return
	}
	fmt.Fprintf(os.Stderr, "\r%s: round %d/%d   ", what, round+1, runs)
	if round+1 == runs {
		fmt.Fprintln(os.Stderr)
	}
}
