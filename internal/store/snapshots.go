package store

import (
	"context"
	"fmt"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// InsertSnapshot records a snapshot being taken. A name the sandbox already
// uses gives errdefs.ErrAlreadyExists.
func (s *Store) InsertSnapshot(ctx context.Context, sn *sandbox.Snapshot) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO snapshots (id, sandbox_id, team_id, name, ready, size_bytes, secret, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sn.ID, sn.SandboxID, sn.TeamID, sn.Name, sn.Ready, sn.Size, sn.Secret, toUnix(sn.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("%w: the sandbox already has a snapshot named %q", errdefs.ErrAlreadyExists, sn.Name)
	}
	if err != nil {
		return fmt.Errorf("recording snapshot: %w", err)
	}
	return nil
}

// UpdateSnapshot saves whether a snapshot is ready and its size.
func (s *Store) UpdateSnapshot(ctx context.Context, sn *sandbox.Snapshot) error {
	_, err := s.db.ExecContext(ctx, `UPDATE snapshots SET ready = ?, size_bytes = ? WHERE id = ?`, sn.Ready, sn.Size, sn.ID)
	if err != nil {
		return fmt.Errorf("updating snapshot %s: %w", sn.ID, err)
	}
	return nil
}

// DeleteSnapshot forgets a snapshot.
func (s *Store) DeleteSnapshot(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM snapshots WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting snapshot %s: %w", id, err)
	}
	return nil
}

// Snapshots lists a sandbox's snapshots ("" = all), oldest first.
func (s *Store) Snapshots(ctx context.Context, sandboxID string) ([]*sandbox.Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, sandbox_id, team_id, name, ready, size_bytes, secret, created_at
		FROM snapshots WHERE (? = '' OR sandbox_id = ?) ORDER BY created_at, id`, sandboxID, sandboxID)
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	defer rows.Close()
	var out []*sandbox.Snapshot
	for rows.Next() {
		var sn sandbox.Snapshot
		var created int64
		if err := rows.Scan(&sn.ID, &sn.SandboxID, &sn.TeamID, &sn.Name, &sn.Ready, &sn.Size, &sn.Secret, &created); err != nil {
			return nil, err
		}
		sn.CreatedAt = fromUnix(created)
		out = append(out, &sn)
	}
	return out, rows.Err()
}
