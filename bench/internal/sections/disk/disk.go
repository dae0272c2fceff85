// Package disk is the disk I/O section: real work (npm install, git
// clone, pip install, a small-file stress test, fsync of each file) timed
// in a sandbox on its durable disk, in one on its ephemeral disk and on
// the host's own filesystem, with the same programs; and the time of Stop
// and Boot of a stopped sandbox.
package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Config is what the section is told.
type Config struct {
	Runs     int // runs of each workload per system, and of Stop/Boot; 0 leaves the section out
	Template string
}

// The systems the section compares, as the table's columns name them.
const (
	Durable   = "durable"
	Ephemeral = "ephemeral"
	Host      = "host"
)

// Systems are the column order.
var Systems = []string{Durable, Ephemeral, Host}

// memoryMB is the memory of the section's sandboxes: enough for npm and
// for an ephemeral disk holding a run's files.
const memoryMB = 2048

// Section is the disk I/O section.
type Section struct {
	Config    Config
	Workloads []*Workload
	// Lifecycle is Stop and Boot of each sandbox, by disk kind.
	Lifecycle map[string]stats.PhaseSet
	Setup     Setup
	Skipped   string // why it did not run, if it did not
	Took      time.Duration
}

// Workload is what one workload measured on each system.
type Workload struct {
	Key   string // the workload's name in code (npm, git, ...)
	Cells map[string]*Cell
}

// Cell is one workload on one system: each run's phases and total, or why
// it was not measured.
type Cell struct {
	Phases stats.PhaseSet
	Totals stats.Samples
	NA     string
}

// Setup is what the report says about the disks and tools.
type Setup struct {
	HostFS      string // the host's filesystem under the bench's directory: type, device, options
	DurableFS   string // the durable sandbox's disk as mounted on the host
	EphemeralFS string // the ephemeral sandbox's overlay flag
	Reflink     string // whether the host's filesystem can reflink
	Tools       string // versions of the template's programs
	MemoryMB    int
}

var _ section.Section = (*Section)(nil)

// Name is "disk".
func (s *Section) Name() string { return "disk" }

// Run measures, unless -disk-runs=0 left the section out; a failure is
// reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	return section.Optional(ctx, "disk I/O", s.Config.Runs == 0, "-disk-runs=0", &s.Skipped,
		func() error { return s.measure(ctx, env) })
}

// measure starts the three systems, runs every workload on each, then
// Stop and Boot of the sandboxes, and removes what it made; on failure
// the cleanup stack removes it.
func (s *Section) measure(ctx context.Context, env *section.Env) error {
	t := time.Now()
	fmt.Fprintln(os.Stderr, "disk I/O: starting a durable and an ephemeral sandbox")
	sys, remove, err := startSystems(ctx, env, s.Config.Template)
	if err != nil {
		return err
	}
	s.Setup = describe(ctx, env.Server, sys)
	for _, w := range workloads() {
		res, err := measureWorkload(ctx, w, sys.all, s.Config.Runs)
		if err != nil {
			return err
		}
		s.Workloads = append(s.Workloads, res)
	}
	if s.Lifecycle, err = measureLifecycle(ctx, env.Server, sys.sandboxes, s.Config.Runs); err != nil {
		return err
	}
	s.Took = time.Since(t)
	return remove(ctx)
}

// measureWorkload prepares w on each system (untimed), then runs it runs
// times on each, the systems in a different order each round. A system
// that fails to prepare or run it is reported as not measured for w; an
// interruption stops the bench.
func measureWorkload(ctx context.Context, w workload, systems []*system, runs int) (*Workload, error) {
	res := &Workload{Key: w.key, Cells: map[string]*Cell{}}
	for _, sys := range systems {
		res.Cells[sys.name] = &Cell{}
	}
	fmt.Fprintf(os.Stderr, "disk I/O, %s: preparing\n", w.key)
	if err := prepare(ctx, w, systems, res); err != nil {
		return nil, err
	}
	for r := range runs {
		for k := range systems {
			sys := systems[(k+r)%len(systems)]
			c := res.Cells[sys.name]
			if c.NA != "" {
				continue
			}
			if err := measure.Settle(ctx); err != nil {
				return nil, err
			}
			ph, err := sys.trial(ctx, w.run, r)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				c.NA = fmt.Sprintf("failed in run %d: %v", r+1, err)
				continue
			}
			c.Phases.Add(ph)
			c.Totals = append(c.Totals, total(ph))
		}
		measure.Progress("disk I/O, "+w.key, r, 0, runs)
	}
	return res, nil
}

// prepare makes w's input on the host and copies it to the sandboxes,
// then runs w's prepare script on each system. A failure marks the
// systems it concerns not measured, in res; only an interruption is
// returned.
func prepare(ctx context.Context, w workload, systems []*system, res *Workload) error {
	if w.make != "" {
		err := makeInput(ctx, w, systems)
		if err != nil && ctx.Err() != nil {
			return err
		}
		if err != nil {
			for _, c := range res.Cells {
				c.NA = w.unavailable(err)
			}
			return nil
		}
	}
	for _, sys := range systems {
		if w.prepare == "" {
			break
		}
		if _, err := sys.run(ctx, w.prepare, -1); err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.Cells[sys.name].NA = w.unavailable(err)
		}
	}
	return nil
}

// makeInput runs w.make on the host and copies the file it made to the
// same place in each sandbox's work directory.
func makeInput(ctx context.Context, w workload, systems []*system) error {
	i := slices.IndexFunc(systems, func(s *system) bool { return s.sb == nil })
	if i < 0 {
		return errors.New("no host system to make the input on")
	}
	h := systems[i]
	if _, err := h.run(ctx, w.make, -1); err != nil {
		return fmt.Errorf("making the input on the host: %w", err)
	}
	for _, sys := range systems {
		if sys.put == nil {
			continue
		}
		if err := sys.put(ctx, filepath.Join(h.dir, w.made), path.Join(sys.dir, w.made)); err != nil {
			return fmt.Errorf("copying %s into the %s sandbox: %w", w.made, sys.name, err)
		}
	}
	return nil
}
