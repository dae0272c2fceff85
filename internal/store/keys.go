package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
)

// CreateTeam records a team. A taken name gives errdefs.ErrAlreadyExists.
func (s *Store) CreateTeam(ctx context.Context, t auth.Team) error {
	return s.insert(ctx, fmt.Errorf("%w: team %q already exists", errdefs.ErrAlreadyExists, t.Name), "recording team",
		`INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)`, t.ID, t.Name, toUnix(t.CreatedAt))
}

// Teams lists teams by name.
func (s *Store) Teams(ctx context.Context) ([]auth.Team, error) {
	return queryAll(ctx, s.db, "listing teams", scanTeam, `SELECT id, name, created_at FROM teams ORDER BY name`)
}

// TeamByName finds a team by its name or ID.
func (s *Store) TeamByName(ctx context.Context, ref string) (auth.Team, error) {
	t, err := scanTeam(s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM teams WHERE name = ? OR id = ?`, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("%w: no team %q", errdefs.ErrNotFound, ref)
	}
	return t, err
}

func scanTeam(r scanner) (auth.Team, error) {
	var t auth.Team
	var created int64
	err := r.Scan(&t.ID, &t.Name, &created)
	t.CreatedAt = fromUnix(created)
	return t, err
}

// CreateKey records a key. A name taken within the team gives errdefs.ErrAlreadyExists.
func (s *Store) CreateKey(ctx context.Context, k auth.Key) error {
	return s.insert(ctx, fmt.Errorf("%w: the team already has a key named %q", errdefs.ErrAlreadyExists, k.Name), "recording key",
		`INSERT INTO api_keys (id, team_id, name, lookup, hash, admin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.TeamID, k.Name, k.Lookup, k.Hash, k.Admin, toUnix(k.CreatedAt))
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
	err := s.tx(ctx, func(tx db) error {
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
	return queryAll(ctx, s.db, "reading keys", func(r scanner) (auth.Key, error) {
		var k auth.Key
		var created int64
		err := r.Scan(&k.ID, &k.TeamID, &k.TeamName, &k.Name, &k.Lookup, &k.Hash, &k.Admin, &created)
		k.CreatedAt = fromUnix(created)
		return k, err
	}, q, args...)
}
