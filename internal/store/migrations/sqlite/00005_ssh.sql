-- Adds SSH passwords and keys.
-- +goose Up
ALTER TABLE sandboxes ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE ssh_keys (
	id          TEXT PRIMARY KEY,
	team_id     TEXT NOT NULL REFERENCES teams(id),
	name        TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	public_key  TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (team_id, name)
);
CREATE INDEX ssh_keys_fingerprint ON ssh_keys(fingerprint);
