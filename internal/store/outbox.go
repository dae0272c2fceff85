package store

// The delivery side of the webhook outbox: the worker claims due
// deliveries, sends them, and records each attempt.

import (
	"context"
	"fmt"
	"time"
)

// Outgoing is a claimed delivery: what to send where.
type Outgoing struct {
	DeliveryID string
	EventID    string
	Type       string
	URL        string
	Secret     string
	Body       []byte
	Attempts   int // made before this one
}

// ClaimDeliveries takes up to limit pending deliveries due at now and
// holds them until now+lease: neither this process's nor another host's
// worker takes them again before then, and if this process dies the lease
// runs out and they are sent again. On PostgreSQL the rows are locked
// with SKIP LOCKED, so workers of several hosts claim different ones.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Outgoing, error) {
	// A read first: the worker asks every second and at every event, and
	// on SQLite a transaction takes the database's write lock.
	var due int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries WHERE state = ? AND next_at <= ? LIMIT 1) d`,
		DeliveryPending, toUnix(now)).Scan(&due)
	if err != nil || due == 0 {
		return nil, err
	}
	var out []Outgoing
	err = s.tx(ctx, func(tx db) error {
		ids, err := queryAll(ctx, tx, "finding due deliveries", func(r scanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, `SELECT id FROM webhook_deliveries WHERE state = ? AND next_at <= ? ORDER BY next_at LIMIT ?`+tx.d.skipLocked,
			DeliveryPending, toUnix(now), limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_at = ? WHERE id = ?`, toUnix(now.Add(lease)), id); err != nil {
				return fmt.Errorf("claiming delivery %s: %w", id, err)
			}
			var o Outgoing
			var body string
			err := tx.QueryRowContext(ctx, `SELECT d.id, d.event_id, e.type, w.url, w.secret, e.body, d.attempts
				FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
				WHERE d.id = ?`, id).Scan(&o.DeliveryID, &o.EventID, &o.Type, &o.URL, &o.Secret, &body, &o.Attempts)
			if err != nil {
				return fmt.Errorf("reading delivery %s: %w", id, err)
			}
			o.Body = []byte(body)
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// RecordAttempt logs an attempt of a delivery and what follows: with next
// set, the delivery is pending again then; else it is done, delivered
// (a 2xx status) or failed. A delivery whose webhook was removed
// meanwhile is left alone.
func (s *Store) RecordAttempt(ctx context.Context, deliveryID string, a Attempt, next time.Time) error {
	state := DeliveryPending
	done := int64(0)
	switch {
	case next.IsZero() && a.Status >= 200 && a.Status < 300:
		state, done = DeliveryDelivered, toUnix(a.At.Add(a.Duration))
	case next.IsZero():
		state, done = DeliveryFailed, toUnix(a.At.Add(a.Duration))
	}
	err := s.tx(ctx, func(tx db) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, state = ?, next_at = ?, last_status = ?,
			last_error = ?, done_at = ? WHERE id = ? AND state = ?`,
			a.N, state, toUnix(next), a.Status, a.Error, done, deliveryID, DeliveryPending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, n, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			deliveryID, a.N, toUnix(a.At), a.Status, a.Error, a.Duration.Milliseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("recording an attempt of delivery %s: %w", deliveryID, err)
	}
	return nil
}

// Deliveries returns the delivery log of a team's webhook: its latest
// deliveries (at most limit), newest first, each with its attempts.
func (s *Store) Deliveries(ctx context.Context, teamID, webhookID string, limit int) ([]Delivery, error) {
	if _, err := s.Webhook(ctx, teamID, webhookID); err != nil {
		return nil, err
	}
	list, err := queryAll(ctx, s.db, "listing deliveries", scanDelivery, `SELECT d.id, d.webhook_id, d.event_id, e.type, d.state,
		d.next_at, d.last_status, d.last_error, d.created_at, d.done_at
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.webhook_id = ? ORDER BY d.created_at DESC, d.id LIMIT ?`, webhookID, limit)
	if err != nil || len(list) == 0 {
		return list, err
	}
	index := map[string]int{}
	for i, d := range list {
		index[d.ID] = i
	}
	type attempt struct {
		delivery string
		Attempt
	}
	attempts, err := queryAll(ctx, s.db, "listing attempts", func(r scanner) (attempt, error) {
		var a attempt
		var at, ms int64
		err := r.Scan(&a.delivery, &a.N, &at, &a.Status, &a.Error, &ms)
		a.At, a.Duration = fromUnix(at), time.Duration(ms)*time.Millisecond
		return a, err
	}, `SELECT a.delivery_id, a.n, a.at, a.status, a.error, a.duration_ms FROM webhook_attempts a
		JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE d.webhook_id = ? AND d.created_at >= ? ORDER BY a.delivery_id, a.n`, webhookID, toUnix(list[len(list)-1].CreatedAt))
	for _, a := range attempts {
		if i, ok := index[a.delivery]; ok {
			list[i].Attempts = append(list[i].Attempts, a.Attempt)
		}
	}
	return list, err
}

func scanDelivery(r scanner) (Delivery, error) {
	var d Delivery
	var next, created, done int64
	err := r.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Type, &d.State, &next, &d.LastStatus, &d.LastError, &created, &done)
	d.NextAt, d.CreatedAt, d.DoneAt = fromUnix(next), fromUnix(created), fromUnix(done)
	if d.State != DeliveryPending {
		d.NextAt = time.Time{}
	}
	return d, err
}

// PruneDeliveries removes deliveries done before cutoff, with their
// attempts, and the events no delivery needs any more.
func (s *Store) PruneDeliveries(ctx context.Context, cutoff time.Time) error {
	err := s.tx(ctx, func(tx db) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN
			(SELECT id FROM webhook_deliveries WHERE state != ? AND done_at < ?)`, DeliveryPending, toUnix(cutoff)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE state != ? AND done_at < ?`, DeliveryPending, toUnix(cutoff)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE created_at < ? AND NOT EXISTS
			(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)`, toUnix(cutoff))
		return err
	})
	if err != nil {
		return fmt.Errorf("pruning webhook deliveries: %w", err)
	}
	return nil
}
