package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

const volumeColumns = `id, team_id, name, size_mb, created_at`

// InsertVolume records a volume. A name the team already uses gives
// errdefs.ErrAlreadyExists.
func (s *Store) InsertVolume(ctx context.Context, v *sandbox.Volume) error {
	return s.insert(ctx, fmt.Errorf("%w: a volume named %q already exists; pick another name or remove it first", errdefs.ErrAlreadyExists, v.Name),
		"recording volume", `INSERT INTO volumes (`+volumeColumns+`) VALUES (?, ?, ?, ?, ?)`,
		v.ID, v.TeamID, v.Name, v.SizeMB, toUnix(v.CreatedAt))
}

// FindVolume returns a team's volume by ID or name. Another team's volume
// is reported as not found.
func (s *Store) FindVolume(ctx context.Context, teamID, ref string) (*sandbox.Volume, error) {
	col := "name"
	if sandbox.IsVolumeID(ref) {
		col = "id"
	}
	v, err := scanVolume(s.db.QueryRowContext(ctx, `SELECT `+volumeColumns+` FROM volumes WHERE `+col+` = ? AND team_id = ?`, ref, teamID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no volume %q; see `runtools volume list`", errdefs.ErrNotFound, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("finding volume %q: %w", ref, err)
	}
	return v, nil
}

// ListVolumes lists a team's volumes ("" = every team's), by name.
func (s *Store) ListVolumes(ctx context.Context, teamID string) ([]*sandbox.Volume, error) {
	return queryAll(ctx, s.db, "listing volumes", scanVolume,
		`SELECT `+volumeColumns+` FROM volumes WHERE (? = '' OR team_id = ?) ORDER BY name, id`, teamID, teamID)
}

// DeleteVolume forgets a volume.
func (s *Store) DeleteVolume(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM volumes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting volume %s: %w", id, err)
	}
	return nil
}

// VolumeMB is the size of all of a team's volumes together, in MB.
func (s *Store) VolumeMB(ctx context.Context, teamID string) (int64, error) {
	var mb sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT SUM(size_mb) FROM volumes WHERE team_id = ?`, teamID).Scan(&mb); err != nil {
		return 0, fmt.Errorf("adding up the team's volumes: %w", err)
	}
	return mb.Int64, nil
}

func scanVolume(r scanner) (*sandbox.Volume, error) {
	var v sandbox.Volume
	var created int64
	err := r.Scan(&v.ID, &v.TeamID, &v.Name, &v.SizeMB, &created)
	v.CreatedAt = fromUnix(created)
	return &v, err
}
