// Package code is the code interpreter section, on runtools only: exec
// through the Python SDK against the Go SDK, run_code on a warm kernel
// against exec in the same sandbox, and the time from creating a sandbox
// of the code template to its first result.
package code

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Runs      int // warm runs of each call; 0 leaves the section out
	FirstRuns int // fresh sandbox to first result runs; 0 leaves them out
}

// Section is the code interpreter section.
type Section struct {
	Config Config
	// Warm are the calls in the warm sandbox: exec through the Go SDK,
	// exec through the Python SDK, run_code through the Go SDK.
	Warm   []*measure.Result
	Interp time.Duration // the first run_code in the warm sandbox, which starts the interpreter
	Python string        // the Python and httpx versions of the Python side
	First  stats.PhaseSet
	// FirstSkipped says why the fresh sandbox runs did not run, if they
	// did not.
	FirstSkipped string
	Skipped      string // why the section did not run, if it did not
	Took         time.Duration
}

var _ section.Section = (*Section)(nil)

// The template, the cell, and the calls and phases as the report names
// them.
const (
	codeTemplate  = "code"
	cell          = "1+1"
	nameGoExec    = "exec `true`, Go SDK (`client.Exec`)"
	namePyExec    = "exec `true`, Python SDK (`Sandbox.exec`)"
	nameRunCode   = "run_code `1+1`, Go SDK (`client.RunCode`), warm kernel"
	phFirstResult = "create to first result (`client.Create`, then `client.RunCode(\"1+1\")` until its result)"
	phFirstCreate = "create: `client.Create` returns (sandbox running, agent answering)"
	phFirstCell   = "first cell: from Create's return until the result of `1+1` (starts the interpreter)"
)

// warmBatch is how many runs of each call a round makes: the Go calls
// and the Python process's take turns a batch at a time.
const warmBatch = 10

// Name is "code".
func (s *Section) Name() string { return "code" }

// Run measures, unless -code-runs=0 left the section out or the code
// template is not built; a failure is reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	return section.Optional(ctx, "code interpreter", s.Config.Runs == 0, "-code-runs=0", &s.Skipped, func() error {
		why, err := notReady(ctx, env.Server.Client)
		if err != nil || why != "" {
			s.Skipped = why
			return err
		}
		return s.measure(ctx, env)
	})
}

// notReady says why the code template cannot be used, or "" if it is
// ready.
func notReady(ctx context.Context, c *client.Client) (string, error) {
	tpl, err := c.Template(ctx, codeTemplate)
	status := tpl.Status
	if errors.Is(err, client.ErrNotFound) {
		status, err = "unknown to the server", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up the %s template: %w", codeTemplate, err)
	}
	if status == "ready" {
		return "", nil
	}
	return fmt.Sprintf("the `%s` template is %s; build it with `runtools server build-templates %s`", codeTemplate, status, codeTemplate), nil
}

// measure times the warm calls in one sandbox of the code template, then
// the fresh sandboxes to their first result. Every sandbox is removed
// after, and by undo on failure.
func (s *Section) measure(ctx context.Context, env *section.Env) error {
	t := time.Now()
	fmt.Fprintln(os.Stderr, "code interpreter")
	sb, remove, err := env.Idle(ctx, codeTemplate, "the warm code sandbox")
	if err != nil {
		return err
	}
	if err := s.measureWarm(ctx, env, sb.ID); err != nil {
		return err
	}
	if err := remove(ctx); err != nil {
		return err
	}
	if s.Config.FirstRuns == 0 {
		s.FirstSkipped = "left out with -code-first-runs=0"
	} else if err := s.measureFirst(ctx, env); err != nil {
		return fmt.Errorf("fresh sandbox to first result: %w", err)
	}
	s.Took = time.Since(t)
	return nil
}

// measureWarm warms sandbox id up (exec, the first run_code, which starts
// the interpreter, and one more of each, uncounted), starts the Python
// side, then runs rounds of a Go batch (exec and run_code alternating)
// and a Python batch, the order swapped each round. A failing Python side
// is dropped, with why; a failing Go call fails the section.
func (s *Section) measureWarm(ctx context.Context, env *section.Env, id string) error {
	srv := env.Server
	s.Warm = []*measure.Result{{Name: nameGoExec}, {Name: namePyExec}, {Name: nameRunCode}}
	goExec, py, runCode := s.Warm[0], s.Warm[1], s.Warm[2]
	calls := [2]func(context.Context) error{
		func(ctx context.Context) error { return srv.ExecTrue(ctx, id) },
		func(ctx context.Context) error { return onePlusOne(ctx, srv.Client, id) },
	}
	if err := calls[0](ctx); err != nil {
		return fmt.Errorf("warming the sandbox up: %w", err)
	}
	var err error
	if s.Interp, err = measure.Timed(calls[1])(ctx); err != nil {
		return fmt.Errorf("starting the interpreter: %w", err)
	}
	if err := errors.Join(calls[0](ctx), calls[1](ctx)); err != nil {
		return fmt.Errorf("warming the sandbox up: %w", err)
	}
	w, err := startPython(ctx, env, id)
	if err != nil {
		py.Dropped = err.Error()
		fmt.Fprintf(os.Stderr, "bench: dropping the Python SDK: %v\n", err)
	} else {
		defer w.close(ctx)
		s.Python = w.version
	}
	rounds := (s.Config.Runs + warmBatch - 1) / warmBatch
	for round := range rounds {
		n := min(warmBatch, s.Config.Runs-round*warmBatch)
		goBatch := func() error { return alternate(ctx, n, calls, [2]*measure.Result{goExec, runCode}) }
		pyBatch := func() error { return pythonBatch(ctx, w, n, py) }
		batches := [2]func() error{goBatch, pyBatch}
		if round%2 == 1 {
			batches[0], batches[1] = pyBatch, goBatch
		}
		for _, b := range batches {
			if err := b(); err != nil {
				return err
			}
		}
		measure.Progress("code: warm exec and run_code", round, 0, rounds)
	}
	return nil
}

// alternate runs the two calls n times each, taking turns (which goes
// first alternates too), each after the settle gap, and records their
// durations in res.
func alternate(ctx context.Context, n int, calls [2]func(context.Context) error, res [2]*measure.Result) error {
	for i := range 2 * n {
		k := (i + i/2) % 2 // 0 1, 1 0, 0 1, ...
		if err := measure.Settle(ctx); err != nil {
			return err
		}
		d, err := measure.Timed(calls[k])(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", res[k].Name, err)
		}
		res[k].Samples = append(res[k].Samples, d)
	}
	return nil
}

// pythonBatch has the Python side run n execs and records them in res;
// a failure drops the Python side, with why, unless ctx is done.
func pythonBatch(ctx context.Context, w *pyWorker, n int, res *measure.Result) error {
	if w == nil || res.Dropped != "" {
		return nil
	}
	ds, err := w.batch(ctx, n)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		res.Dropped = err.Error()
		fmt.Fprintf(os.Stderr, "\nbench: dropping the Python SDK: %v\n", err)
		return nil
	}
	res.Samples = append(res.Samples, ds...)
	return nil
}

// measureFirst creates FirstRuns sandboxes of the code template one after
// another, each after the settle gap, and times each from the create
// call until the result of its first cell; each is removed after.
func (s *Section) measureFirst(ctx context.Context, env *section.Env) error {
	for i := range s.Config.FirstRuns {
		if err := measure.Settle(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		sb, remove, err := env.Idle(ctx, codeTemplate, "a fresh code sandbox")
		if err != nil {
			return err
		}
		t1 := time.Now()
		if err := onePlusOne(ctx, env.Server.Client, sb.ID); err != nil {
			return errors.Join(err, remove(ctx))
		}
		t2 := time.Now()
		s.First.Add([]stats.Phase{{Name: phFirstResult, D: t2.Sub(t0)}, {Name: phFirstCreate, D: t1.Sub(t0)}, {Name: phFirstCell, D: t2.Sub(t1)}})
		if err := remove(ctx); err != nil {
			return err
		}
		measure.Progress("code: fresh sandbox to first result", i, 0, s.Config.FirstRuns)
	}
	return nil
}

// onePlusOne runs the cell `1+1` in sandbox id and checks its result.
func onePlusOne(ctx context.Context, c *client.Client, id string) error {
	ex, err := c.RunCode(ctx, id, client.RunCodeRequest{Code: cell}, nil)
	if err != nil {
		return fmt.Errorf("run_code %s in %s: %w", cell, id, err)
	}
	if ex.Error != nil || ex.Text() != "2" {
		return fmt.Errorf("run_code %s in %s: got %q, error %v, stderr %q", cell, id, ex.Text(), ex.Error, ex.Stderr)
	}
	return nil
}
