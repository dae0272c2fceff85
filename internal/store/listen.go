package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// changedChannel is the PostgreSQL channel every transaction that records
// an event notifies (at its commit), so that every node of a cluster
// wakes its watchers, not only the one that wrote.
const changedChannel = "runtools_changed"

// Listen wakes this process's watchers (Changed) at every change any node
// of the cluster records, until ctx ends. A lost connection is made
// again, and wakes them once made: what changed meanwhile is read again.
// On SQLite, whose writers are all in this process, it does nothing.
func (s *Store) Listen(ctx context.Context, log *slog.Logger) {
	if s.url == "" {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, s.url, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("listening for changes in the cluster database; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, url string, connected func()) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "LISTEN "+changedChannel); err != nil {
		return err
	}
	connected()
	s.changed.fire()
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		s.changed.fire()
	}
}
