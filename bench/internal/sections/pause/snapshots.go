package pause

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// The names of what the snapshot comparison measures.
const (
	phSnapshot     = "snapshot (`client.TakeSnapshot`)"
	phRollback     = "rollback (`client.Rollback`)"
	phFork         = "fork (`client.Fork`)"
	phSnapshotTook = "snapshot: (the daemon's own \"took\", from its log)"
	phRollbackTook = "rollback: (the resume part, the daemon's \"took\" from its log)"
	phForkTook     = "fork: (the resume part, the daemon's \"took\" from its log)"
	phRollbackGet  = "rollback: (first HTTP GET after it, not in the total)"
	phForkGet      = "fork: (first HTTP GET to the fork, not in the total)"
)

// snapshotter takes a snapshot of a running runtools sandbox with the
// Node.js server, rolls the sandbox back to it and forks a new sandbox from
// it, each round; the fork is destroyed and the snapshot deleted after,
// untimed, so the disk does not fill.
type snapshotter struct {
	s      *server.Server
	sb     *client.Sandbox
	holdMB int
	n      int    // snapshots taken
	name   string // this round's snapshot
	sizes  stats.Sizes
}

func (p *snapshotter) cycler(name string) measure.Cycler {
	return measure.Cycler{Name: name, Ops: []measure.Op{p.snapshot, p.rollback, p.fork}}
}

func (p *snapshotter) snapshot(ctx context.Context) ([]stats.Phase, error) {
	p.n++
	p.name = fmt.Sprintf("bench-%d", p.n)
	t0 := time.Now()
	sn, err := p.s.Client.TakeSnapshot(ctx, p.sb.ID, p.name)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("taking snapshot %s of %s: %w", p.name, p.sb.ID, err)
	}
	p.sizes = append(p.sizes, sn.SizeBytes)
	ph := append([]stats.Phase{{Name: phSnapshot, D: t1.Sub(t0)}},
		server.ImagePhases(filepath.Join(p.s.DataDir, "snapshots", sn.ID), t0, t1, server.SnapshotImagePhases)...)
	if l, ok := p.s.LastLogged("snapshot taken", p.sb.ID); ok {
		ph = append(ph, stats.Phase{Name: phSnapshotTook, D: l.Took})
	}
	// The sandbox kept running; its server must still answer.
	if _, err := node.Wait(ctx, p.sb.IP, p.holdMB, 10*time.Second); err != nil {
		return nil, fmt.Errorf("after snapshot %s: %w", p.name, err)
	}
	return ph, nil
}

func (p *snapshotter) rollback(ctx context.Context) ([]stats.Phase, error) {
	t0 := time.Now()
	sb, err := p.s.Client.Rollback(ctx, p.sb.ID, p.name)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("rolling %s back to %s: %w", p.sb.ID, p.name, err)
	}
	if sb.State != client.StateRunning {
		return nil, fmt.Errorf("rolling %s back: state %s after Rollback", p.sb.ID, sb.State)
	}
	ph := append([]stats.Phase{{Name: phRollback, D: t1.Sub(t0)}}, p.s.RestorePhases("rollback", p.sb.ID, t0, t1)...)
	if l, ok := p.s.LastLogged("sandbox resumed", p.sb.ID); ok {
		ph = append(ph, stats.Phase{Name: phRollbackTook, D: l.Took})
	}
	get, err := node.Wait(ctx, p.sb.IP, p.holdMB, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("after rollback: %w", err)
	}
	return append(ph, stats.Phase{Name: phRollbackGet, D: get}), nil
}

// fork forks a sandbox from this round's snapshot, checks that the fork's
// server answers at the fork's own address, then destroys the fork and
// deletes the snapshot (untimed).
func (p *snapshotter) fork(ctx context.Context) ([]stats.Phase, error) {
	t0 := time.Now()
	fk, err := p.s.Client.Fork(ctx, p.sb.ID, client.ForkRequest{Snapshot: p.name})
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("forking %s from %s: %w", p.sb.ID, p.name, err)
	}
	ph := append([]stats.Phase{{Name: phFork, D: t1.Sub(t0)}}, p.s.RestorePhases("fork", fk.ID, t0, t1)...)
	if l, ok := p.s.LastLogged("sandbox resumed", fk.ID); ok {
		ph = append(ph, stats.Phase{Name: phForkTook, D: l.Took})
	}
	get, gerr := node.Wait(ctx, fk.IP, p.holdMB, 10*time.Second)
	if err := p.s.Destroy(ctx, fk); err != nil {
		return nil, fmt.Errorf("destroying fork %s: %w", fk.ID, err)
	}
	if err := p.s.Client.DeleteSnapshot(ctx, p.sb.ID, p.name); err != nil {
		return nil, fmt.Errorf("deleting snapshot %s: %w", p.name, err)
	}
	if gerr != nil {
		return nil, fmt.Errorf("fork %s (%s): %w", fk.ID, fk.IP, gerr)
	}
	return append(ph, stats.Phase{Name: phForkGet, D: get}), nil
}
