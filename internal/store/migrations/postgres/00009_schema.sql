-- The schema of SQLite's migrations 1 to 9, at once: PostgreSQL support
-- began there. It is numbered 9 so that later migrations carry the same
-- numbers in both dialects. Times are Unix nanoseconds, as in SQLite.
-- +goose Up
CREATE TABLE teams (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL REFERENCES teams(id),
	name       TEXT NOT NULL,
	lookup     TEXT NOT NULL,
	hash       BYTEA NOT NULL,
	admin      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	UNIQUE (team_id, name)
);
CREATE INDEX api_keys_lookup ON api_keys(lookup);
CREATE TABLE sandboxes (
	id              TEXT PRIMARY KEY,
	team_id         TEXT NOT NULL REFERENCES teams(id),
	name            TEXT NOT NULL DEFAULT '',
	template        TEXT NOT NULL,
	state           TEXT NOT NULL,
	stop_reason     TEXT NOT NULL DEFAULT '',
	vcpus           INTEGER NOT NULL,
	memory_mb       INTEGER NOT NULL,
	disk_mb         INTEGER NOT NULL,
	ip              TEXT NOT NULL,
	secret          TEXT NOT NULL,
	env             TEXT NOT NULL DEFAULT '{}',
	metadata        TEXT NOT NULL DEFAULT '{}',
	created_at      BIGINT NOT NULL,
	started_at      BIGINT NOT NULL DEFAULT 0,
	stopped_at      BIGINT NOT NULL DEFAULT 0,
	idle_timeout_ms BIGINT NOT NULL DEFAULT 600000,
	next_secret     TEXT NOT NULL DEFAULT '',
	public          BOOLEAN NOT NULL DEFAULT FALSE,
	ports           TEXT NOT NULL DEFAULT '[3000,3001,5173,8000,8080]',
	access_token    TEXT NOT NULL DEFAULT '',
	password_hash   TEXT NOT NULL DEFAULT '',
	desktop         BOOLEAN NOT NULL DEFAULT FALSE,
	egress          TEXT NOT NULL DEFAULT '{}',
	disk            TEXT NOT NULL DEFAULT 'ephemeral',
	auto_start      BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes(team_id, name) WHERE state != 'destroyed' AND name != '';
CREATE UNIQUE INDEX sandboxes_live_ip ON sandboxes(ip) WHERE state != 'destroyed';
CREATE INDEX sandboxes_team ON sandboxes(team_id, created_at);
CREATE TABLE sandbox_events (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sandbox_id TEXT NOT NULL,
	at         BIGINT NOT NULL,
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
	ready      BOOLEAN NOT NULL DEFAULT FALSE,
	size_bytes BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	secret     TEXT NOT NULL DEFAULT '',
	UNIQUE (sandbox_id, name)
);
CREATE TABLE ssh_keys (
	id          TEXT PRIMARY KEY,
	team_id     TEXT NOT NULL REFERENCES teams(id),
	name        TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	public_key  TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (team_id, name)
);
CREATE INDEX ssh_keys_fingerprint ON ssh_keys(fingerprint);
CREATE TABLE custom_templates (
	id         TEXT PRIMARY KEY,
	team_id    TEXT NOT NULL REFERENCES teams(id),
	name       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	stack      TEXT NOT NULL,
	config     TEXT NOT NULL,
	source     TEXT NOT NULL,
	from_ref   TEXT NOT NULL,
	built_by   TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	size_bytes BIGINT NOT NULL,
	public     BOOLEAN NOT NULL DEFAULT FALSE,
	UNIQUE (team_id, name, version)
);
