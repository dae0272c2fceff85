// Package store keeps runtools' records (teams, API keys, SSH keys,
// sandboxes and their events, snapshots, custom templates) in a SQL
// database: an embedded SQLite file on a single host (Open), or PostgreSQL
// for a cluster of hosts (OpenPostgres). It implements sandbox.Store and
// the lookups the API server, the SSH gateway and the metrics need.
//
// Both databases sit behind the one Store type, rather than two packages
// behind an interface: the queries are the same SQL, written once, and a
// small dialect (dialect.go) covers what differs: placeholders, text
// PostgreSQL refuses (NUL, invalid UTF-8), how a broken uniqueness
// constraint and a lost connection (errdefs.ErrUnavailable) look, row
// locks, a lock that keeps events in commit order, and the schema. The
// conformance tests run every test on both.
//
// The schema evolves through goose migrations, one directory per dialect
// under migrations/, with the same version numbers in both. SQLite
// databases from before goose (which counted migrations in PRAGMA
// user_version) are adopted as they are. On PostgreSQL, goose's advisory
// lock lets several hosts start at once on an empty database.
//
// Changed wakes watchers at every recorded change: on PostgreSQL, a
// change any node of the cluster made (NOTIFY at commit, and Listen).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver, pure Go
	_ "modernc.org/sqlite"             // the SQLite driver, pure Go
)

// Store is the database. Safe for concurrent use.
type Store struct {
	pool    *sql.DB
	db      db // pool, with queries rewritten for its dialect
	changed signal
	url     string // of the PostgreSQL database, for Listen
}

// Open opens (creating if needed) the SQLite database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_txlock=immediate"
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this keeps
	// transactions free of busy errors.
	pool.SetMaxOpenConns(1)
	return open(ctx, pool, onSQLite)
}

// OpenPostgres connects to the PostgreSQL database at url
// (postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...) and migrates it.
// Several hosts may open the same database at once.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	if _, err := pgx.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("reading the PostgreSQL URL: %w", err)
	}
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("opening the PostgreSQL database: %w", err)
	}
	pool.SetMaxOpenConns(16)
	pool.SetMaxIdleConns(4)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	s, err := open(ctx, pool, onPostgres)
	if err != nil {
		return nil, err
	}
	s.url = url
	return s, nil
}

func open(ctx context.Context, pool *sql.DB, d *dialect) (*Store, error) {
	if err := migrate(ctx, pool, d); err != nil {
		pool.Close()
		return nil, d.classify(err)
	}
	return &Store{pool: pool, db: db{pool, d}}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.pool.Close() }

// tx runs fn in a transaction, committed if fn returns nil. On
// PostgreSQL, its commit notifies the other nodes (see Listen).
func (s *Store) tx(ctx context.Context, fn func(db) error) error {
	tx, err := s.pool.BeginTx(ctx, nil)
	if err != nil {
		return s.db.d.classify(err)
	}
	x := db{tx, s.db.d}
	if err := fn(x); err != nil {
		tx.Rollback()
		return err
	}
	if s.db.d.notify != "" {
		if _, err := x.ExecContext(ctx, s.db.d.notify); err != nil {
			tx.Rollback()
			return err
		}
	}
	return s.db.d.classify(tx.Commit())
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
