package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// migrations are the schema, version by version, one directory per
// dialect. Each file runs once, in a transaction. Only ever add files,
// with the next version number, to both directories.
//
//go:embed migrations
var migrations embed.FS

// migrate brings the schema to the latest version. On PostgreSQL, a
// session-level advisory lock makes hosts starting at once take turns.
func migrate(ctx context.Context, pool *sql.DB, d *dialect) error {
	fsys, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d == onPostgres {
		// Retried every second (not the default five) for ten minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else if err := adoptUserVersion(ctx, pool); err != nil {
		return err
	}
	p, err := goose.NewProvider(d.goose, pool, fsys, opts...)
	if err != nil {
		return fmt.Errorf("reading the database migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	current, latest, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("the database's schema version %d is newer than this runtools (%d); upgrade runtools", current, latest)
	}
	if d == onSQLite {
		// Kept up to date so that a runtools from before goose, which
		// counts migrations there, refuses a database newer than it.
		if _, err := pool.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", current)); err != nil {
			return fmt.Errorf("recording the schema version: %w", err)
		}
	}
	return nil
}

// adoptUserVersion hands a SQLite database migrated before goose over to
// goose: those migrations were counted in PRAGMA user_version, and are
// the first ones of migrations/sqlite, so goose's table records them as
// applied. A database that has goose's table already is left alone.
func adoptUserVersion(ctx context.Context, pool *sql.DB) error {
	var version, tables int64
	if err := pool.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	err := pool.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", goose.DefaultTablename).Scan(&tables)
	if err != nil || version == 0 || tables > 0 {
		return err
	}
	gs, err := database.NewStore(database.DialectSQLite3, goose.DefaultTablename)
	if err != nil {
		return err
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := gs.CreateVersionTable(ctx, tx); err != nil {
		return fmt.Errorf("adopting schema version %d: %w", version, err)
	}
	for v := range version + 1 { // 0 is goose's own first row
		if err := gs.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return fmt.Errorf("adopting schema version %d: %w", version, err)
		}
	}
	return tx.Commit()
}
