package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

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
	s      *server
	sb     *client.Sandbox
	holdMB int
	n      int    // snapshots taken
	name   string // this round's snapshot
	sizes  []int64
}

func (p *snapshotter) cycler(name string) cycler {
	return cycler{name: name, ops: []op{p.snapshot, p.rollback, p.fork}}
}

func (p *snapshotter) snapshot(ctx context.Context) ([]phase, error) {
	p.n++
	p.name = fmt.Sprintf("bench-%d", p.n)
	t0 := time.Now()
	sn, err := p.s.c.TakeSnapshot(ctx, p.sb.ID, p.name)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("taking snapshot %s of %s: %w", p.name, p.sb.ID, err)
	}
	p.sizes = append(p.sizes, sn.SizeBytes)
	ph := append([]phase{{phSnapshot, t1.Sub(t0)}},
		imagePhases(filepath.Join(p.s.dataDir, "snapshots", sn.ID), t0, t1, snapshotImagePhases)...)
	if l, ok := p.s.lastLogged("snapshot taken", p.sb.ID); ok {
		ph = append(ph, phase{phSnapshotTook, l.took})
	}
	// The sandbox kept running; its server must still answer.
	if _, err := waitNode(ctx, p.sb.IP, p.holdMB, 10*time.Second); err != nil {
		return nil, fmt.Errorf("after snapshot %s: %w", p.name, err)
	}
	return ph, nil
}

func (p *snapshotter) rollback(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	sb, err := p.s.c.Rollback(ctx, p.sb.ID, p.name)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("rolling %s back to %s: %w", p.sb.ID, p.name, err)
	}
	if sb.State != client.StateRunning {
		return nil, fmt.Errorf("rolling %s back: state %s after Rollback", p.sb.ID, sb.State)
	}
	ph := append([]phase{{phRollback, t1.Sub(t0)}}, p.s.restorePhases("rollback", p.sb.ID, t0, t1)...)
	if l, ok := p.s.lastLogged("sandbox resumed", p.sb.ID); ok {
		ph = append(ph, phase{phRollbackTook, l.took})
	}
	get, err := waitNode(ctx, p.sb.IP, p.holdMB, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("after rollback: %w", err)
	}
	return append(ph, phase{phRollbackGet, get}), nil
}

// fork forks a sandbox from this round's snapshot, checks that the fork's
// server answers at the fork's own address, then destroys the fork and
// deletes the snapshot (untimed).
func (p *snapshotter) fork(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	fk, err := p.s.c.Fork(ctx, p.sb.ID, client.ForkRequest{Snapshot: p.name})
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("forking %s from %s: %w", p.sb.ID, p.name, err)
	}
	ph := append([]phase{{phFork, t1.Sub(t0)}}, p.s.restorePhases("fork", fk.ID, t0, t1)...)
	if l, ok := p.s.lastLogged("sandbox resumed", fk.ID); ok {
		ph = append(ph, phase{phForkTook, l.took})
	}
	get, gerr := waitNode(ctx, fk.IP, p.holdMB, 10*time.Second)
	if err := p.s.destroy(ctx, fk); err != nil {
		return nil, fmt.Errorf("destroying fork %s: %w", fk.ID, err)
	}
	if err := p.s.c.DeleteSnapshot(ctx, p.sb.ID, p.name); err != nil {
		return nil, fmt.Errorf("deleting snapshot %s: %w", p.name, err)
	}
	if gerr != nil {
		return nil, fmt.Errorf("fork %s (%s): %w", fk.ID, fk.IP, gerr)
	}
	return append(ph, phase{phForkGet, get}), nil
}
