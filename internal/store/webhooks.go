package store

// Webhooks and their outbox. An event a team's webhooks hear of
// (sandbox.WebhookType) is written, with one pending delivery for each
// webhook that wants its type, in the transaction that records the
// sandbox's event: a daemon killed at any moment loses none, and the
// delivery worker (package webhook) sends what is pending.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// Webhook is a URL a team's events are posted to.
type Webhook struct {
	ID        string
	TeamID    string
	URL       string
	Events    []string // wire.Webhook* types it wants
	Secret    string   // the HMAC key its deliveries are signed with
	CreatedAt time.Time
}

// States of a delivery.
const (
	DeliveryPending   = "pending"   // to be sent at NextAt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // every attempt failed; no more are made
)

// Delivery is one event on its way to one webhook, with its attempts.
type Delivery struct {
	ID         string
	WebhookID  string
	EventID    string
	Type       string
	State      string
	NextAt     time.Time // when a pending one is next sent
	LastStatus int       // HTTP status of the last attempt, 0 if none came
	LastError  string
	CreatedAt  time.Time
	DoneAt     time.Time // when it was delivered or given up
	Attempts   []Attempt
}

// Attempt is one try at a delivery.
type Attempt struct {
	N        int // 1 for the first
	At       time.Time
	Status   int // HTTP status, 0 if no answer came
	Error    string
	Duration time.Duration
}

// CreateWebhook records a webhook.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) error {
	return s.insert(ctx, fmt.Errorf("%w: webhook %s is already recorded", errdefs.ErrAlreadyExists, w.ID), "recording webhook",
		`INSERT INTO webhooks (id, team_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		w.ID, w.TeamID, w.URL, strings.Join(w.Events, ","), w.Secret, toUnix(w.CreatedAt))
}

const webhookColumns = `id, team_id, url, events, secret, created_at`

// Webhooks lists a team's webhooks, oldest first.
func (s *Store) Webhooks(ctx context.Context, teamID string) ([]Webhook, error) {
	return queryAll(ctx, s.db, "listing webhooks", scanWebhook,
		`SELECT `+webhookColumns+` FROM webhooks WHERE team_id = ? ORDER BY created_at, id`, teamID)
}

// Webhook returns a team's webhook; another team's is not found.
func (s *Store) Webhook(ctx context.Context, teamID, id string) (Webhook, error) {
	w, err := scanWebhook(s.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ? AND team_id = ?`, id, teamID))
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("%w: no webhook %q; see `runtools webhook list`", errdefs.ErrNotFound, id)
	}
	return w, err
}

// DeleteWebhook removes a team's webhook and its deliveries, pending or not.
func (s *Store) DeleteWebhook(ctx context.Context, teamID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ? AND team_id = ?`, id, teamID)
	if err != nil {
		return fmt.Errorf("deleting webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no webhook %q; see `runtools webhook list`", errdefs.ErrNotFound, id)
	}
	return nil
}

func scanWebhook(r scanner) (Webhook, error) {
	var w Webhook
	var events string
	var created int64
	err := r.Scan(&w.ID, &w.TeamID, &w.URL, &events, &w.Secret, &created)
	w.Events, w.CreatedAt = strings.Split(events, ","), fromUnix(created)
	return w, err
}

// enqueueWebhooks records, in tx, the webhook event of a sandbox's event
// (if it is one) and a pending delivery to each of its team's webhooks
// that wants it. The sandbox's row, as tx sees it, gives the rest.
func enqueueWebhooks(ctx context.Context, tx db, id string, from, to sandbox.State, why string, at time.Time) error {
	if typ, _ := sandbox.WebhookType(from, to, why, time.Time{}); typ == "" {
		return nil
	}
	var (
		sbx          wire.WebhookSandbox
		team, labels string
		timeoutAt    int64
	)
	err := tx.QueryRowContext(ctx, `SELECT team_id, name, template, state, labels, timeout_at FROM sandboxes WHERE id = ?`, id).
		Scan(&team, &sbx.Name, &sbx.Template, &sbx.State, &labels, &timeoutAt)
	if err != nil {
		return fmt.Errorf("reading the sandbox of a webhook event: %w", err)
	}
	if err := json.Unmarshal([]byte(labels), &sbx.Labels); err != nil {
		return fmt.Errorf("decoding labels of %s: %w", id, err)
	}
	sbx.ID = id
	typ, data := sandbox.WebhookType(from, to, why, fromUnix(timeoutAt))
	return enqueue(ctx, tx, wire.WebhookEvent{Type: typ, CreatedAt: at.UTC(), Team: team, Sandbox: &sbx, Data: data})
}

// AddTeamEvent records an event of a team that concerns no sandbox (such
// as a refusal by a quota) for the team's webhooks that want its type.
func (s *Store) AddTeamEvent(ctx context.Context, teamID, typ string, data map[string]any) error {
	err := s.tx(ctx, func(tx db) error {
		return enqueue(ctx, tx, wire.WebhookEvent{Type: typ, CreatedAt: time.Now().UTC(), Team: teamID, Data: data})
	})
	if err != nil {
		return fmt.Errorf("recording a %s event of team %s: %w", typ, teamID, err)
	}
	s.changed.fire()
	return nil
}

var _ sandbox.TeamEvents = (*Store)(nil)

// enqueue records ev, given an ID, and a pending delivery of it to each
// webhook of ev.Team that wants its type; nothing if none does.
func enqueue(ctx context.Context, tx db, ev wire.WebhookEvent) error {
	hooks, err := queryAll(ctx, tx, "listing webhooks", scanWebhook, `SELECT `+webhookColumns+` FROM webhooks WHERE team_id = ?`, ev.Team)
	if err != nil {
		return err
	}
	hooks = slices.DeleteFunc(hooks, func(w Webhook) bool { return !slices.Contains(w.Events, ev.Type) })
	if len(hooks) == 0 {
		return nil
	}
	ev.ID = "evt_" + auth.Random(16)
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding a webhook event: %w", err)
	}
	sbID := ""
	if ev.Sandbox != nil {
		sbID = ev.Sandbox.ID
	}
	at := toUnix(ev.CreatedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, team_id, type, sandbox_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.Team, ev.Type, sbID, string(body), at); err != nil {
		return fmt.Errorf("recording a webhook event: %w", err)
	}
	for _, w := range hooks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, webhook_id, event_id, state, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			"dlv_"+auth.Random(16), w.ID, ev.ID, DeliveryPending, at, at); err != nil {
			return fmt.Errorf("recording a webhook delivery: %w", err)
		}
	}
	return nil
}
