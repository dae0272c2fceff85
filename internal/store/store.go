// Package store keeps runtools' records (teams, API keys, sandboxes) in an
// embedded SQLite database file. It implements sandbox.Store and the
// key lookups the API server needs.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

// Store is the SQLite database. Safe for concurrent use.
type Store struct {
	db      *sql.DB
	changed signal
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this keeps
	// transactions free of busy errors.
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

var migrations = []string{
	`CREATE TABLE teams (
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
	CREATE INDEX sandboxes_team ON sandboxes(team_id, created_at);`,

	`ALTER TABLE sandboxes ADD COLUMN idle_timeout_ms INTEGER NOT NULL DEFAULT 600000;
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
	);`,

	`ALTER TABLE snapshots ADD COLUMN secret TEXT NOT NULL DEFAULT '';`,

	`ALTER TABLE sandboxes ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sandboxes ADD COLUMN ports TEXT NOT NULL DEFAULT '[3000,3001,5173,8000,8080]';
	ALTER TABLE sandboxes ADD COLUMN access_token TEXT NOT NULL DEFAULT '';`,

	`ALTER TABLE sandboxes ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
	CREATE TABLE ssh_keys (
		id          TEXT PRIMARY KEY,
		team_id     TEXT NOT NULL REFERENCES teams(id),
		name        TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		public_key  TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		UNIQUE (team_id, name)
	);
	CREATE INDEX ssh_keys_fingerprint ON ssh_keys(fingerprint);`,

	`ALTER TABLE sandboxes ADD COLUMN desktop INTEGER NOT NULL DEFAULT 0;`,

	`ALTER TABLE sandboxes ADD COLUMN egress TEXT NOT NULL DEFAULT '{}';`,

	`CREATE TABLE custom_templates (
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
	);`,

	// stopped now keeps a sandbox (its disk, name and address, to start it
	// again); what was stopped before this had no disk to keep: destroyed.
	`ALTER TABLE sandboxes ADD COLUMN disk TEXT NOT NULL DEFAULT 'ephemeral';
	ALTER TABLE sandboxes ADD COLUMN auto_start INTEGER NOT NULL DEFAULT 1;
	UPDATE sandboxes SET state = 'destroyed' WHERE state = 'stopped';
	DROP INDEX sandboxes_live_name;
	DROP INDEX sandboxes_live_ip;
	CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes(team_id, name) WHERE state != 'destroyed' AND name != '';
	CREATE UNIQUE INDEX sandboxes_live_ip ON sandboxes(ip) WHERE state != 'destroyed';`,
}

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this runtools (%d); upgrade runtools", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrating database to version %d: %w", i+1, err)
		}
	}
	return nil
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func toUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
