package store

// migrations are the schema, version by version: each runs once, in a
// transaction, and PRAGMA user_version counts those that ran. Only ever
// add to the end.
var migrations = []string{
	schemaTeamsKeysSandboxes,
	schemaEventsSnapshots,
	schemaSnapshotSecret,
	schemaPorts,
	schemaSSH,
	schemaDesktop,
	schemaEgress,
	schemaCustomTemplates,
	schemaDisks,
	schemaLifetimes,
}

// schemaTeamsKeysSandboxes is the first schema: teams, API keys and sandboxes.
const schemaTeamsKeysSandboxes = `CREATE TABLE teams (
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
	CREATE INDEX sandboxes_team ON sandboxes(team_id, created_at);`

// schemaEventsSnapshots adds idle timeouts, token renewal, sandbox events and snapshots.
const schemaEventsSnapshots = `ALTER TABLE sandboxes ADD COLUMN idle_timeout_ms INTEGER NOT NULL DEFAULT 600000;
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
	);`

// schemaSnapshotSecret adds the agent token a snapshot's image holds.
const schemaSnapshotSecret = `ALTER TABLE snapshots ADD COLUMN secret TEXT NOT NULL DEFAULT '';`

// schemaPorts adds public URLs, exposed ports and access tokens.
const schemaPorts = `ALTER TABLE sandboxes ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sandboxes ADD COLUMN ports TEXT NOT NULL DEFAULT '[3000,3001,5173,8000,8080]';
	ALTER TABLE sandboxes ADD COLUMN access_token TEXT NOT NULL DEFAULT '';`

// schemaSSH adds SSH passwords and keys.
const schemaSSH = `ALTER TABLE sandboxes ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
	CREATE TABLE ssh_keys (
		id          TEXT PRIMARY KEY,
		team_id     TEXT NOT NULL REFERENCES teams(id),
		name        TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		public_key  TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		UNIQUE (team_id, name)
	);
	CREATE INDEX ssh_keys_fingerprint ON ssh_keys(fingerprint);`

// schemaDesktop adds desktop sandboxes.
const schemaDesktop = `ALTER TABLE sandboxes ADD COLUMN desktop INTEGER NOT NULL DEFAULT 0;`

// schemaEgress adds egress policies.
const schemaEgress = `ALTER TABLE sandboxes ADD COLUMN egress TEXT NOT NULL DEFAULT '{}';`

// schemaCustomTemplates adds custom templates.
const schemaCustomTemplates = `CREATE TABLE custom_templates (
		id         TEXT PRIMARY KEY,
		team_id    TEXT NOT NULL REFERENCES teams(id),
		name       TEXT NOT NULL,
		version    INTEGER NOT NULL,
		stack      TEXT NOT NULL,
		config     TEXT NOT NULL,
		source     TEXT NOT NULL,
		from_ref   TEXT NOT NULL,
		built_by   TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		size_bytes INTEGER NOT NULL,
		public     INTEGER NOT NULL DEFAULT 0,
		UNIQUE (team_id, name, version)
	);`

// schemaDisks adds disks and auto-start. stopped now keeps a sandbox (its
// disk, name and address, to start it again); what was stopped before
// this had no disk to keep: destroyed.
const schemaDisks = `ALTER TABLE sandboxes ADD COLUMN disk TEXT NOT NULL DEFAULT 'ephemeral';
	ALTER TABLE sandboxes ADD COLUMN auto_start INTEGER NOT NULL DEFAULT 1;
	UPDATE sandboxes SET state = 'destroyed' WHERE state = 'stopped';
	DROP INDEX sandboxes_live_name;
	DROP INDEX sandboxes_live_ip;
	CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes(team_id, name) WHERE state != 'destroyed' AND name != '';
	CREATE UNIQUE INDEX sandboxes_live_ip ON sandboxes(ip) WHERE state != 'destroyed';`

// schemaLifetimes adds labels, hard lifetimes (when a sandbox times out,
// what then, whether its warning was given), when it was paused (for the
// paused TTL) and pinned snapshots (kept by the snapshot cap).
const schemaLifetimes = `ALTER TABLE sandboxes ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE sandboxes ADD COLUMN timeout_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sandboxes ADD COLUMN on_timeout TEXT NOT NULL DEFAULT '';
	ALTER TABLE sandboxes ADD COLUMN timeout_warned INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sandboxes ADD COLUMN paused_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE snapshots ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
	UPDATE sandboxes SET paused_at = COALESCE((SELECT MAX(at) FROM sandbox_events e
		WHERE e.sandbox_id = sandboxes.id AND e.to_state = 'paused'), 0) WHERE state = 'paused';`
