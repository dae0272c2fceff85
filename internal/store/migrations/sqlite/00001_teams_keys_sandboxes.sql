-- The first schema: teams, API keys and sandboxes.
-- +goose Up
CREATE TABLE teams (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL REFERENCES teams(id),
	name       TEXT NOT NULL,
	lookup     TEXT NOT NULL,
	hash       BLOB NOT NULL,
	admin      INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	UNIQUE (team_id, name)
);
CREATE INDEX api_keys_lookup ON api_keys(lookup);
CREATE TABLE sandboxes (
	id          TEXT PRIMARY KEY,
	team_id     TEXT NOT NULL REFERENCES teams(id),
	name        TEXT NOT NULL DEFAULT '',
	template    TEXT NOT NULL,
	state       TEXT NOT NULL,
	stop_reason TEXT NOT NULL DEFAULT '',
	vcpus       INTEGER NOT NULL,
	memory_mb   INTEGER NOT NULL,
	disk_mb     INTEGER NOT NULL,
	ip          TEXT NOT NULL,
	secret      TEXT NOT NULL,
	env         TEXT NOT NULL DEFAULT '{}',
	metadata    TEXT NOT NULL DEFAULT '{}',
	created_at  INTEGER NOT NULL,
	started_at  INTEGER NOT NULL DEFAULT 0,
	stopped_at  INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes(team_id, name) WHERE state != 'stopped' AND name != '';
CREATE UNIQUE INDEX sandboxes_live_ip ON sandboxes(ip) WHERE state != 'stopped';
CREATE INDEX sandboxes_team ON sandboxes(team_id, created_at);
