package store

import (
	"context"
	"fmt"

	"github.com/runtools/runtools/internal/errdefs"
)

// serverLock is the PostgreSQL advisory lock the one server holds.
const serverLock = 7011990002

// Exclusive makes this process the only runtools server on a PostgreSQL
// database until release is called: a second one gets
// errdefs.ErrConflict. Until runtools knows of several hosts (issue 18),
// a second server would take the first's sandboxes for its own and
// reconcile them away. On SQLite, where the file is one host's, it does
// nothing.
//
// The lock is held by a connection of its own (a session advisory lock):
// if PostgreSQL restarts, it is lost, and another server could start.
func (s *Store) Exclusive(ctx context.Context) (release func(), err error) {
	if s.db.d != onPostgres {
		return func() {}, nil
	}
	c, err := s.pool.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("locking the database for this server: %w", s.db.d.classify(err))
	}
	var got bool
	if err := c.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", serverLock).Scan(&got); err != nil || !got {
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("locking the database for this server: %w", s.db.d.classify(err))
		}
		return nil, fmt.Errorf("%w: another runtools server uses this database; until a cluster can run several hosts, stop it first", errdefs.ErrConflict)
	}
	return func() {
		// Unlocked before the connection goes back to the pool, which
		// keeps the session (and so the lock) open.
		c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", serverLock)
		c.Close()
	}, nil
}
