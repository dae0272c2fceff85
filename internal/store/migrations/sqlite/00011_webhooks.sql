-- Adds webhooks and their outbox: an event a team's webhooks hear of is
-- recorded with one pending delivery per webhook in the transaction that
-- records the sandbox's event, and the delivery worker logs each attempt.
-- +goose Up
CREATE TABLE webhooks (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL REFERENCES teams(id),
	url        TEXT NOT NULL,
	events     TEXT NOT NULL,
	secret     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_team ON webhooks(team_id);
CREATE TABLE webhook_events (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL,
	type       TEXT NOT NULL,
	sandbox_id TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
	id          TEXT PRIMARY KEY,
	webhook_id  TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	event_id    TEXT NOT NULL REFERENCES webhook_events(id),
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,
	last_status INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	done_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
CREATE TABLE webhook_attempts (
	delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (delivery_id, n)
);
