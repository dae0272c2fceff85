-- Adds idle timeouts, token renewal, sandbox events and snapshots.
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN idle_timeout_ms INTEGER NOT NULL DEFAULT 600000;
ALTER TABLE sandboxes ADD COLUMN next_secret TEXT NOT NULL DEFAULT '';
CREATE TABLE sandbox_events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	sandbox_id TEXT NOT NULL,
	at         INTEGER NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	why        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sandbox_events_sandbox ON sandbox_events(sandbox_id, seq);
CREATE TABLE snapshots (
	id         TEXT PRIMARY KEY,
	sandbox_id TEXT NOT NULL,
	team_id    TEXT NOT NULL,
	name       TEXT NOT NULL,
	ready      INTEGER NOT NULL DEFAULT 0,
	size_bytes INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	UNIQUE (sandbox_id, name)
);
