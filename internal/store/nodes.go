package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

var _ cluster.Store = (*Store)(nil)

// activeStates are the states of a sandbox that holds a slot of its node.
const activeStates = `('creating', 'running', 'pausing', 'resuming', 'stopping')`

// RegisterNode records a node as it starts, or updates its record: all
// but the state an admin gave it, which a restart keeps. It is not lost.
func (s *Store) RegisterNode(ctx context.Context, n cluster.Node) error {
	tpls, err := json.Marshal(n.Templates)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO nodes (name, api_url, proxy_addr, ssh_addr, state, vcpus, memory_mb,
		disk_mb, slots, templates, started_at, heartbeat_at, lease_until, lost_at) VALUES (?, ?, ?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (name) DO UPDATE SET api_url = excluded.api_url, proxy_addr = excluded.proxy_addr,
		ssh_addr = excluded.ssh_addr, vcpus = excluded.vcpus, memory_mb = excluded.memory_mb, disk_mb = excluded.disk_mb,
		slots = excluded.slots, templates = excluded.templates, started_at = excluded.started_at,
		heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until, lost_at = 0`,
		n.Name, n.APIURL, n.ProxyAddr, n.SSHAddr, n.VCPUs, n.MemoryMB, n.DiskMB, n.Slots, string(tpls),
		toUnix(n.StartedAt), toUnix(n.Heartbeat), toUnix(n.LeaseEnd))
	if err != nil {
		return fmt.Errorf("registering node %s: %w", n.Name, err)
	}
	return nil
}

// RenewLease extends a node's lease to until, and reports whether it had
// been marked lost (it is not any more). It is not a transaction, which
// would notify every node at each heartbeat: a node marked lost between
// its two statements stays lost until the next renewal, which sees it.
func (s *Store) RenewLease(ctx context.Context, name string, now, until time.Time) (wasLost bool, err error) {
	res, err := s.db.ExecContext(ctx, `UPDATE nodes SET lost_at = 0 WHERE name = ? AND lost_at != 0`, name)
	if err != nil {
		return false, fmt.Errorf("renewing the lease of node %s: %w", name, err)
	}
	back, _ := res.RowsAffected()
	res, err = s.db.ExecContext(ctx, `UPDATE nodes SET heartbeat_at = ?, lease_until = ? WHERE name = ?`, toUnix(now), toUnix(until), name)
	if err != nil {
		return false, fmt.Errorf("renewing the lease of node %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, fmt.Errorf("%w: node %s is not registered", errdefs.ErrNotFound, name)
	}
	return back > 0, nil
}

// Nodes lists the nodes by name, each with what runs on it.
func (s *Store) Nodes(ctx context.Context) ([]cluster.Node, error) {
	return queryAll(ctx, s.db, "listing nodes", scanNode, `SELECT n.name, n.api_url, n.proxy_addr, n.ssh_addr, n.state,
		n.vcpus, n.memory_mb, n.disk_mb, n.slots, n.templates, n.started_at, n.heartbeat_at, n.lease_until, n.lost_at,
		COALESCE(u.sandboxes, 0), COALESCE(u.vcpus, 0), COALESCE(u.memory_mb, 0)
		FROM nodes n LEFT JOIN (SELECT node, COUNT(*) AS sandboxes, SUM(vcpus) AS vcpus, SUM(memory_mb) AS memory_mb
			FROM sandboxes WHERE state IN `+activeStates+` GROUP BY node) u ON u.node = n.name
		ORDER BY n.name`)
}

func scanNode(r scanner) (cluster.Node, error) {
	var (
		n                          cluster.Node
		state, tpls                string
		started, beat, lease, lost int64
	)
	err := r.Scan(&n.Name, &n.APIURL, &n.ProxyAddr, &n.SSHAddr, &state, &n.VCPUs, &n.MemoryMB, &n.DiskMB, &n.Slots,
		&tpls, &started, &beat, &lease, &lost, &n.Sandboxes, &n.UsedVCPUs, &n.UsedMemory)
	if err != nil {
		return n, err
	}
	n.State = cluster.State(state)
	n.StartedAt, n.Heartbeat, n.LeaseEnd, n.LostAt = fromUnix(started), fromUnix(beat), fromUnix(lease), fromUnix(lost)
	if err := json.Unmarshal([]byte(tpls), &n.Templates); err != nil {
		return n, fmt.Errorf("reading the templates of node %s: %w", n.Name, err)
	}
	return n, nil
}

// SetNodeState sets what an admin wants of a node: ready, cordoned or
// draining.
func (s *Store) SetNodeState(ctx context.Context, name string, st cluster.State) error {
	res, err := s.db.ExecContext(ctx, `UPDATE nodes SET state = ? WHERE name = ?`, string(st), name)
	if err != nil {
		return fmt.Errorf("setting node %s %s: %w", name, st, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no node %q; see `runtools node list`", errdefs.ErrNotFound, name)
	}
	return nil
}

// MarkLost marks lost the nodes whose lease ended before now and returns
// their names. Of several nodes doing it at once, each node is marked by
// exactly one.
func (s *Store) MarkLost(ctx context.Context, now time.Time) ([]string, error) {
	return queryAll(ctx, s.db, "marking lost nodes", func(r scanner) (string, error) {
		var name string
		return name, r.Scan(&name)
	}, `UPDATE nodes SET lost_at = ? WHERE lost_at = 0 AND lease_until < ? RETURNING name`, toUnix(now), toUnix(now))
}

// FailSandboxes records every sandbox that holds a slot of node as failed
// (state error) with why, each with its event, and returns how many.
// Paused and stopped ones keep their state: their images are on disk.
func (s *Store) FailSandboxes(ctx context.Context, node, why string) (int, error) {
	var ids []string
	err := s.tx(ctx, func(tx db) error {
		var err error
		ids, err = queryAll(ctx, tx, "listing a node's sandboxes", func(r scanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, `SELECT id FROM sandboxes WHERE node = ? AND state IN `+activeStates+tx.d.forUpdate, node)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var from string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM sandboxes WHERE id = ?`, id).Scan(&from); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sandboxes SET state = 'error', stop_reason = ?, stopped_at = ? WHERE id = ?`,
				why, time.Now().UnixNano(), id); err != nil {
				return err
			}
			if err := recordEvent(ctx, tx, id, sandbox.State(from), sandbox.Error, why); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("failing the sandboxes of node %s: %w", node, err)
	}
	if len(ids) > 0 {
		s.changed.fire()
	}
	return len(ids), nil
}

// ClusterSecret returns the secret the nodes sign their requests to each
// other with, made by the first node that asks.
func (s *Store) ClusterSecret(ctx context.Context) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO cluster_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("making the cluster secret: %w", err)
	}
	var secret string
	if err := s.db.QueryRowContext(ctx, `SELECT secret FROM cluster_secret WHERE id = 1`).Scan(&secret); err != nil {
		return nil, fmt.Errorf("reading the cluster secret: %w", err)
	}
	return hex.DecodeString(secret)
}

// AdoptSandboxes gives node the sandboxes recorded before nodes existed
// (with no node), or with all every sandbox: on a single host, whose
// database is its own, a renamed host keeps its sandboxes.
func (s *Store) AdoptSandboxes(ctx context.Context, node string, all bool) error {
	q := `UPDATE sandboxes SET node = ? WHERE node = '' AND ? != ''`
	if all {
		q = `UPDATE sandboxes SET node = ? WHERE node != ?`
	}
	if _, err := s.db.ExecContext(ctx, q, node, node); err != nil {
		return fmt.Errorf("adopting sandboxes: %w", err)
	}
	return nil
}

// SetImage records key as the stored image of a sandbox still paused
// since pausedAt, and reports whether it was (a resume may have come
// first).
func (s *Store) SetImage(ctx context.Context, id, key string, pausedAt time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE sandboxes SET image_object = ? WHERE id = ? AND state = 'paused' AND paused_at = ?`,
		key, id, toUnix(pausedAt))
	if err != nil {
		return false, fmt.Errorf("recording the stored image of %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		s.changed.fire()
	}
	return n > 0, nil
}

// MoveSandbox gives a paused sandbox of node from to node to, at address
// ip there, and reports whether it did: not if it changed meanwhile (it
// was resumed, or another node took it).
func (s *Store) MoveSandbox(ctx context.Context, id, from, to, ip string) (bool, error) {
	var moved bool
	err := s.tx(ctx, func(tx db) error {
		res, err := tx.ExecContext(ctx, `UPDATE sandboxes SET node = ?, ip = ? WHERE id = ? AND node = ? AND state = 'paused'`, to, ip, id, from)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if moved = n > 0; !moved {
			return nil
		}
		return recordEvent(ctx, tx, id, sandbox.Paused, sandbox.Paused, fmt.Sprintf("moved from node %s to node %s", from, to))
	})
	if err != nil {
		return false, fmt.Errorf("moving sandbox %s to node %s: %w", id, to, err)
	}
	s.changed.fire()
	return moved, nil
}
