package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// The rows of the forwarding and move tables, as the report names them.
const (
	nameOwner     = "exec `true` through the owner's API"
	nameForwarded = "exec `true` through another node's API (forwarded to the owner)"
	phMove        = "cross-node resume: `client.Move` to another node, through that node's API (fetch the image, resume)"
	phMoveExec    = "cross-node: the first exec of `true` after the move"
	phLocal       = "local resume: `client.Resume` on its own node, through its API"
	phLocalExec   = "local: the first exec of `true` after the resume"
	phPause       = "(before either: `client.Pause`)"
	phStore       = "(after the pause: storing the image in the object store, the daemon's \"took\")"
)

// storedMsg is what a node logs once a pause's image is in the object
// store (internal/sandbox/move.go).
const storedMsg = "stored the pause image in the object store"

// storeWait bounds the wait for a pause image to be stored.
const storeWait = 2 * time.Minute

// measureForwarding runs `true` in one sandbox through its owner's API
// and through another node's, round-robin, runs times each after 5
// uncounted rounds.
func (s *Section) measureForwarding(ctx context.Context, f *fleet) error {
	sb, owner, err := f.createOn(ctx, f.nodes[0], s.Config.Template)
	if err != nil {
		return err
	}
	other := f.other(owner)
	via := func(n *node) func(context.Context) error {
		return func(ctx context.Context) error { return server.ExecTrueWith(ctx, n.c(), sb.ID) }
	}
	s.Forward, err = measure.Exec(ctx, []measure.Execer{
		{Name: nameOwner, Once: measure.Timed(via(owner))},
		{Name: nameForwarded, Once: measure.Timed(via(other))},
	}, s.Config.ExecRuns, 5)
	return errors.Join(err, f.destroy(ctx, sb.ID))
}

// createOn creates an idle sandbox through n's API, runs `true` in it, and
// returns it with the node that runs it (n, unless placement chose
// another).
func (f *fleet) createOn(ctx context.Context, n *node, template string) (*client.Sandbox, *node, error) {
	zero := 0
	sb, err := n.c().Create(ctx, client.CreateRequest{Template: template, IdleTimeout: &zero})
	if err != nil {
		return nil, nil, fmt.Errorf("creating a sandbox through node %s: %w", n.name, err)
	}
	owner := f.byName(sb.Node)
	if owner == nil {
		return nil, nil, errors.Join(fmt.Errorf("sandbox %s runs on node %q, not one of the bench's", sb.ID, sb.Node), f.destroy(ctx, sb.ID))
	}
	if err := server.ExecTrueWith(ctx, n.c(), sb.ID); err != nil {
		return nil, nil, errors.Join(err, f.destroy(ctx, sb.ID))
	}
	return sb, owner, nil
}

// measureMoves runs 1 uncounted and MoveRuns counted rounds of a
// cross-node resume and a local one, the order swapped each round, the
// owner a different node each round. Each trial pauses a fresh sandbox and
// waits until its image is stored, then resumes it.
func (s *Section) measureMoves(ctx context.Context, f *fleet) error {
	runs := s.Config.MoveRuns
	for round := -1; round < runs; round++ {
		n := f.nodes[(round+1)%len(f.nodes)]
		trials := [2]func() error{
			func() error { return s.resumeOnce(ctx, f, n, true, round >= 0) },
			func() error { return s.resumeOnce(ctx, f, n, false, round >= 0) },
		}
		if round%2 != 0 {
			trials[0], trials[1] = trials[1], trials[0]
		}
		for _, t := range trials {
			if err := t(); err != nil {
				return err
			}
		}
		measure.Progress("cluster: cross-node and local resume", round, 1, runs)
	}
	return nil
}

// resumeOnce creates a sandbox through n, pauses it, waits for its image
// to be stored, and resumes it: moved to the next node if move, else on
// its own node; then runs `true` in it. It records the times if count.
func (s *Section) resumeOnce(ctx context.Context, f *fleet, n *node, move, count bool) error {
	sb, owner, err := f.createOn(ctx, n, s.Config.Template)
	if err != nil {
		return err
	}
	ph, sizes, err := pauseStored(ctx, owner, sb.ID)
	if err == nil {
		var more []stats.Phase
		more, err = resumeTimed(ctx, f, owner, sb.ID, move)
		ph = append(ph, more...)
	}
	if err = errors.Join(err, f.destroy(ctx, sb.ID)); err != nil {
		return err
	}
	if count {
		s.Moves.Add(ph)
		s.PauseImages, s.Stored = append(s.PauseImages, sizes[0]), append(s.Stored, sizes[1])
	}
	return nil
}

// pauseStored pauses sandbox id, which owner runs, and waits until owner
// has logged that its image is stored; it returns the pause's time and
// the store's, and the sizes the owner logged of the pause image and of
// the stored object.
func pauseStored(ctx context.Context, owner *node, id string) ([]stats.Phase, [2]int64, error) {
	var sizes [2]int64
	t0 := time.Now()
	if _, err := owner.c().Pause(ctx, id); err != nil {
		return nil, sizes, fmt.Errorf("pausing %s: %w", id, err)
	}
	ph := []stats.Phase{{Name: phPause, D: time.Since(t0)}}
	if l, ok := owner.srv.LastLogged("sandbox paused", id); ok {
		sizes[0] = l.Bytes
	}
	deadline := time.Now().Add(storeWait)
	for {
		if l, ok := owner.srv.LastLogged(storedMsg, id); ok {
			sizes[1] = l.Bytes
			return append(ph, stats.Phase{Name: phStore, D: l.Took}), sizes, nil
		}
		if time.Now().After(deadline) {
			return nil, sizes, fmt.Errorf("node %s did not store the pause image of %s in %s:\n%s", owner.name, id, storeWait,
				host.LastLines(owner.srv.Log(), 20))
		}
		if err := measure.Sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, sizes, err
		}
	}
}

// resumeTimed resumes paused sandbox id, which owner ran, after the settle
// gap: with client.Move through the next node's API, or with
// client.Resume through owner's. Then it runs `true` in it.
func resumeTimed(ctx context.Context, f *fleet, owner *node, id string, move bool) ([]stats.Phase, error) {
	to, names := owner, [2]string{phLocal, phLocalExec}
	if move {
		to, names = f.other(owner), [2]string{phMove, phMoveExec}
	}
	if err := measure.Settle(ctx); err != nil {
		return nil, err
	}
	t0 := time.Now()
	var sb *client.Sandbox
	var err error
	if move {
		sb, err = to.c().Move(ctx, id, to.name)
	} else {
		sb, err = to.c().Resume(ctx, id)
	}
	t1 := time.Now()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s of %s on node %s: %w", names[0], id, to.name, err)
	case sb.State != client.StateRunning || sb.Node != to.name:
		return nil, fmt.Errorf("%s of %s: %s on node %q after it, want running on %s", names[0], id, sb.State, sb.Node, to.name)
	}
	if err := server.ExecTrueWith(ctx, to.c(), id); err != nil {
		return nil, err
	}
	return []stats.Phase{{Name: names[0], D: t1.Sub(t0)}, {Name: names[1], D: time.Since(t1)}}, nil
}
