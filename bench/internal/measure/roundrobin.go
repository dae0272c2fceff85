package measure

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
)

// Trial is one create-to-first-exec measurement.
type Trial struct {
	Total  time.Duration
	Phases []stats.Phase
	Remove func(context.Context) error // undoes what the trial made; may be nil
}

// Creator is one system in a create-to-first-exec comparison.
type Creator struct {
	Name     string
	Optional bool // on failure, drop it and say why instead of stopping
	Once     func(context.Context) (Trial, error)
}

// Execer is one system in a warm exec comparison; Once returns the
// duration to record.
type Execer struct {
	Name     string
	Optional bool
	Once     func(context.Context) (time.Duration, error)
}

// Timed wraps an action so that its wall time is what is recorded.
func Timed(f func(context.Context) error) func(context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		t := time.Now()
		err := f(ctx)
		return time.Since(t), err
	}
}

// Create runs warmup+runs rounds. Each round runs every system once, one
// after another, starting with a different system each round. Each
// sandbox is removed, untimed, before the next trial starts.
func Create(ctx context.Context, systems []Creator, runs, warmup int) ([]*Result, error) {
	return roundRobin("create-to-first-exec", systems, runs, warmup, func(sys Creator, res *Result, round int) error {
		return createOnce(ctx, sys, res, round >= 0)
	})
}

// system is one system in a comparison: a Creator, an Execer or a Cycler.
type system interface {
	name() string // as the results name it
}

func (c Creator) name() string { return c.Name }
func (e Execer) name() string  { return e.Name }
func (c Cycler) name() string  { return c.Name }

// roundRobin runs warmup+runs rounds, round being negative in the warm-up
// ones. Each round calls once for every system not dropped, one after
// another, starting with a different system each round. what names the
// comparison in the progress shown.
func roundRobin[S system](what string, systems []S, runs, warmup int, once func(sys S, res *Result, round int) error) ([]*Result, error) {
	results := make([]*Result, len(systems))
	for i, sys := range systems {
		results[i] = &Result{Name: sys.name()}
	}
	for round := -warmup; round < runs; round++ {
		for k := range systems {
			i := (k + round + warmup) % len(systems)
			if results[i].Dropped != "" {
				continue
			}
			if err := once(systems[i], results[i], round); err != nil {
				return results, err
			}
		}
		Progress(what, round, warmup, runs)
	}
	return results, nil
}

// createOnce runs one trial of sys after the settle gap and removes what
// it made, recording both if count.
func createOnce(ctx context.Context, sys Creator, res *Result, count bool) error {
	if err := Settle(ctx); err != nil {
		return err
	}
	tr, err := sys.Once(ctx)
	if tr.Remove != nil {
		t := time.Now()
		rerr := tr.Remove(ctx)
		if err == nil && rerr != nil {
			err = fmt.Errorf("removing: %w", rerr)
		}
		if err == nil && count {
			res.Teardown = append(res.Teardown, time.Since(t))
		}
	}
	if err != nil {
		return drop(ctx, sys.Name, sys.Optional, res, err)
	}
	if count {
		res.Samples = append(res.Samples, tr.Total)
		res.Phases.Add(tr.Phases)
	}
	return nil
}

// drop records why an optional system is dropped and returns nil, or
// returns err for a system that may not fail.
func drop(ctx context.Context, name string, optional bool, res *Result, err error) error {
	if !optional || ctx.Err() != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	res.Dropped = err.Error()
	fmt.Fprintf(os.Stderr, "bench: dropping %s: %v\n", name, err)
	return nil
}

// Exec runs a warm exec comparison, round-robin like Create.
func Exec(ctx context.Context, systems []Execer, runs, warmup int) ([]*Result, error) {
	return roundRobin("warm exec", systems, runs, warmup, func(sys Execer, res *Result, round int) error {
		return execOnce(ctx, sys, res, round >= 0)
	})
}

// execOnce runs sys once after the settle gap, recording its duration if
// count.
func execOnce(ctx context.Context, sys Execer, res *Result, count bool) error {
	if err := Settle(ctx); err != nil {
		return err
	}
	d, err := sys.Once(ctx)
	if err != nil {
		return drop(ctx, sys.Name, sys.Optional, res, err)
	}
	if count {
		res.Samples = append(res.Samples, d)
	}
	return nil
}
