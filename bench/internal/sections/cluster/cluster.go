// Package cluster is the cluster section, on runtools only: three nodes of
// one cluster on this machine (a throwaway PostgreSQL and S3 server), and
// what the cluster adds: create throughput on one node against three, the
// cost of forwarding a request to a sandbox's node, a resume on another
// node against one on the sandbox's own, and a node's drain.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Config is what the section is told.
type Config struct {
	Creates  int // sandboxes created at once, on one node and on three; 0 leaves the section out
	ExecRuns int // exec runs through the owner's API and through another node's
	MoveRuns int // cross-node and local resumes
	Drain    int // sandboxes on the drained node
	Template string
	// Binary and TemplateDir are the runtools server's, for the nodes.
	Binary, TemplateDir string
}

// Section is the cluster section.
type Section struct {
	Config     Config
	One, Three Burst             // the creates at once on one node, and on three
	Forward    []*measure.Result // exec through the owner, and forwarded
	Moves      stats.PhaseSet    // cross-node and local resumes, with the pauses and stores before them
	// PauseImages and Stored are the sizes of the paused sandboxes' images
	// on their node's disk and as stored objects (zstd, with the disk).
	PauseImages, Stored stats.Sizes
	Drain               Drain
	Skipped             string // why the section did not run, if it did not
	Failed              string // the measurement that failed, if one did: those after it did not run
	Took                time.Duration
}

var _ section.Section = (*Section)(nil)

// quiet is the pause before each burst of creates, so that the destroys
// of the one before are over.
const quiet = 3 * time.Second

// Name is "cluster".
func (s *Section) Name() string { return "cluster" }

// Run measures, unless -cluster-creates=0 left the section out or the
// machine lacks PostgreSQL or SeaweedFS; a failure is reported as not
// measured. The cluster is stopped, and its leftovers looked for, before
// Run returns.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	return section.Optional(ctx, "cluster", s.Config.Creates == 0, "-cluster-creates=0", &s.Skipped, func() error {
		if s.Skipped = missing(); s.Skipped != "" {
			return nil
		}
		t := time.Now()
		fmt.Fprintln(os.Stderr, "cluster: starting PostgreSQL, SeaweedFS and three nodes")
		f, err := startFleet(ctx, s.Config, env)
		stop := host.Once(func(ctx context.Context) error {
			leaks, err := f.close(ctx)
			env.Leak(leaks...)
			return err
		})
		env.Undo.Push("stop the cluster", stop)
		if err == nil {
			err = s.measureAll(ctx, f)
		}
		if err := errors.Join(err, stop(context.WithoutCancel(ctx))); err != nil {
			return err
		}
		s.Took = time.Since(t)
		return nil
	})
}

// measureAll runs the four measurements on the ready cluster. A failure
// is recorded in s.Failed, and what was measured before it is kept;
// only an interruption is returned.
func (s *Section) measureAll(ctx context.Context, f *fleet) error {
	err := s.measure(ctx, f)
	if err == nil || ctx.Err() != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\nbench: the cluster section failed: %v\n", err)
	s.Failed = err.Error()
	return nil
}

// measure runs the four measurements, one after the other.
func (s *Section) measure(ctx context.Context, f *fleet) error {
	if err := s.measureCreates(ctx, f); err != nil {
		return fmt.Errorf("creates at once: %w", err)
	}
	fmt.Fprintln(os.Stderr, "cluster: exec through the owner and forwarded")
	if err := s.measureForwarding(ctx, f); err != nil {
		return fmt.Errorf("forwarding: %w", err)
	}
	if err := s.measureMoves(ctx, f); err != nil {
		return fmt.Errorf("cross-node and local resume: %w", err)
	}
	fmt.Fprintln(os.Stderr, "cluster: drain")
	if err := s.measureDrain(ctx, f); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	return nil
}

// measureCreates warms each node up with one create through its own API,
// then times Creates creates at once through the first node with the
// others cordoned, then through all three APIs in turn with all ready;
// the sandboxes are destroyed after each, untimed.
func (s *Section) measureCreates(ctx context.Context, f *fleet) error {
	fmt.Fprintln(os.Stderr, "cluster: creates at once, on one node and on three")
	for _, n := range f.nodes {
		sb, _, err := f.createOn(ctx, n, s.Config.Template)
		if err != nil {
			return fmt.Errorf("warming node %s up: %w", n.name, err)
		}
		if err := f.destroy(ctx, sb.ID); err != nil {
			return err
		}
	}
	if err := f.only(ctx, f.nodes[0]); err != nil {
		return err
	}
	var err error
	if s.One, err = s.timedBurst(ctx, f, f.nodes[:1], 1); err != nil {
		return err
	}
	if err := f.only(ctx, nil); err != nil {
		return err
	}
	s.Three, err = s.timedBurst(ctx, f, f.nodes, len(f.nodes))
	return err
}

// timedBurst runs a burst of Creates creates through the APIs of via,
// with ready nodes ready, after the quiet gap, then destroys every
// sandbox.
func (s *Section) timedBurst(ctx context.Context, f *fleet, via []*node, ready int) (Burst, error) {
	if err := measure.Sleep(ctx, quiet); err != nil {
		return Burst{}, err
	}
	b := burst(ctx, via, s.Config.Creates, s.Config.Template)
	b.Nodes = ready
	fmt.Fprintf(os.Stderr, "cluster: %d creates at once on %d node(s): %.2f sandboxes/s, %d failed\n",
		b.Sandboxes, ready, b.Rate(), b.Failures)
	if ctx.Err() != nil {
		return b, ctx.Err()
	}
	return b, f.destroyAll(ctx)
}
