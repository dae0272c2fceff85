package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/quota"
)

var _ quota.Teams = (*Store)(nil)

// TeamQuota returns a team's name and its own limits (quota.Unset where
// it takes the server's default).
func (s *Store) TeamQuota(ctx context.Context, teamID string) (string, quota.Limits, error) {
	var name string
	var l quota.Limits
	err := s.db.QueryRowContext(ctx, `SELECT name, max_sandboxes, max_vcpus, max_memory_mb, max_disk_bytes, max_builds
		FROM teams WHERE id = ?`, teamID).Scan(&name, &l.Sandboxes, &l.VCPUs, &l.MemoryMB, &l.DiskBytes, &l.Builds)
	if errors.Is(err, sql.ErrNoRows) {
		return "", l, fmt.Errorf("%w: no team %q", errdefs.ErrNotFound, teamID)
	}
	if err != nil {
		return "", l, fmt.Errorf("reading the limits of team %s: %w", teamID, s.db.d.classify(err))
	}
	return name, l, nil
}

// SetTeamQuota records a team's own limits, all five.
func (s *Store) SetTeamQuota(ctx context.Context, teamID string, own quota.Limits) error {
	res, err := s.db.ExecContext(ctx, `UPDATE teams SET max_sandboxes = ?, max_vcpus = ?, max_memory_mb = ?,
		max_disk_bytes = ?, max_builds = ? WHERE id = ?`, own.Sandboxes, own.VCPUs, own.MemoryMB, own.DiskBytes, own.Builds, teamID)
	if err != nil {
		return fmt.Errorf("recording the limits of team %s: %w", teamID, s.db.d.classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no team %q", errdefs.ErrNotFound, teamID)
	}
	return nil
}

// StoredBytes is what a team's snapshots (those ready) and custom
// templates (every version) take, as recorded when they were made.
func (s *Store) StoredBytes(ctx context.Context, teamID string) (quota.Disk, error) {
	var d quota.Disk
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM snapshots WHERE team_id = ? AND ready = TRUE),
		(SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM custom_templates WHERE team_id = ?)`, teamID, teamID).Scan(&d.Snapshots, &d.Templates)
	if err != nil {
		return d, fmt.Errorf("measuring the stored bytes of team %s: %w", teamID, s.db.d.classify(err))
	}
	return d, nil
}
