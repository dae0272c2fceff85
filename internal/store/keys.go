package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
)

// CreateTeam records a team. A taken name gives errdefs.ErrAlreadyExists.
func (s *Store) CreateTeam(ctx context.Context, t auth.Team) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)`, t.ID, t.Name, toUnix(t.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("%w: team %q already exists", errdefs.ErrAlreadyExists, t.Name)
	}
	if err != nil {
		return fmt.Errorf("recording team: %w", err)
	}
	return nil
}

// Teams lists teams by name.
func (s *Store) Teams(ctx context.Context) ([]auth.Team, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM teams ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing teams: %w", err)
	}
	defer rows.Close()
	var out []auth.Team
	for rows.Next() {
		var t auth.Team
		var created int64
		if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
			return nil, err
		}
		t.CreatedAt = fromUnix(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

// TeamByName finds a team by its name or ID.
func (s *Store) TeamByName(ctx context.Context, ref string) (auth.Team, error) {
	var t auth.Team
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM teams WHERE name = ? OR id = ?`, ref, ref).Scan(&t.ID, &t.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("%w: no team %q", errdefs.ErrNotFound, ref)
	}
	t.CreatedAt = fromUnix(created)
	return t, err
}

// CreateKey records a key. A name taken within the team gives errdefs.ErrAlreadyExists.
func (s *Store) CreateKey(ctx context.Context, k auth.Key) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (id, team_id, name, lookup, hash, admin, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, k.ID, k.TeamID, k.Name, k.Lookup, k.Hash, k.Admin, toUnix(k.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("%w: the team already has a key named %q", errdefs.ErrAlreadyExists, k.Name)
	}
	if err != nil {
		return fmt.Errorf("recording key: %w", err)
	}
	return nil
}

const keyColumns = `k.id, k.team_id, t.name, k.name, k.lookup, k.hash, k.admin, k.created_at`

// KeysByLookup returns the keys whose hash starts with lookup (normally one).
func (s *Store) KeysByLookup(ctx context.Context, lookup string) ([]auth.Key, error) {
	return s.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN teams t ON t.id = k.team_id WHERE k.lookup = ?`, lookup)
}

// Keys lists a team's keys ("" = all teams).
func (s *Store) Keys(ctx context.Context, teamID string) ([]auth.Key, error) {
	return s.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN teams t ON t.id = k.team_id
		WHERE (? = '' OR k.team_id = ?) ORDER BY t.name, k.name`, teamID, teamID)
}

// CountKeys returns how many keys exist.
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n)
	return n, err
}

// DeleteKey removes a team's key by ID or name ("" team = any team).
func (s *Store) DeleteKey(ctx context.Context, teamID, ref string) error {
	// By ID, or by name when that names one key: an admin's name may
	// match keys of several teams, and then only an ID says which.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE (id = ? OR name = ?) AND (? = '' OR team_id = ?)`,
			ref, ref, teamID, teamID).Scan(&n); err != nil {
			return err
		}
		switch {
		case n == 0:
			return fmt.Errorf("%w: no key %q", errdefs.ErrNotFound, ref)
		case n > 1:
			return fmt.Errorf("%w: %d keys are called %q (in several teams); delete one by its ID (see `runtools key list`)", errdefs.ErrConflict, n, ref)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE (id = ? OR name = ?) AND (? = '' OR team_id = ?)`, ref, ref, teamID, teamID)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting key: %w", err)
	}
	return nil
}

func (s *Store) queryKeys(ctx context.Context, q string, args ...any) ([]auth.Key, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading keys: %w", err)
	}
	defer rows.Close()
	var out []auth.Key
	for rows.Next() {
		var k auth.Key
		var created int64
		if err := rows.Scan(&k.ID, &k.TeamID, &k.TeamName, &k.Name, &k.Lookup, &k.Hash, &k.Admin, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = fromUnix(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
