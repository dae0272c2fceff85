package store

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/runtools/runtools/internal/errdefs"
)

// LockNode makes this process the only server running as node name on a
// PostgreSQL database until release is called: a second one with the
// same name gets errdefs.ErrConflict, as it would take the first one's
// sandboxes for its own and reconcile them away. On SQLite, where the
// file is one host's (and the bridge lock keeps a second server off it),
// it does nothing.
//
// The lock is a session advisory lock held by a connection of its own:
// if PostgreSQL restarts, it is lost, and another server could start.
func (s *Store) LockNode(ctx context.Context, name string) (release func(), err error) {
	if s.db.d != onPostgres {
		return func() {}, nil
	}
	h := fnv.New64a()
	h.Write([]byte("runtools node " + name))
	key := int64(h.Sum64())
	c, err := s.pool.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("locking node %s: %w", name, s.db.d.classify(err))
	}
	var got bool
	if err := c.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil || !got {
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("locking node %s: %w", name, s.db.d.classify(err))
		}
		return nil, fmt.Errorf("%w: another runtools server runs as node %q on this cluster database; give this one another --node-name", errdefs.ErrConflict, name)
	}
	return func() {
		// Unlocked before the connection goes back to the pool, which
		// keeps the session (and so the lock) open.
		c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
		c.Close()
	}, nil
}
