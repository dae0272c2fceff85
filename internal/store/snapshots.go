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
	return s.insert(ctx, fmt.Errorf("%w: the sandbox already has a snapshot named %q", errdefs.ErrAlreadyExists, sn.Name), "recording snapshot",
		`INSERT INTO snapshots (id, sandbox_id, team_id, name, ready, size_bytes, secret, created_at, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sn.ID, sn.SandboxID, sn.TeamID, sn.Name, sn.Ready, sn.Size, sn.Secret, toUnix(sn.CreatedAt), sn.Pinned)
}

// UpdateSnapshot saves whether a snapshot is ready, its size and whether it is pinned.
func (s *Store) UpdateSnapshot(ctx context.Context, sn *sandbox.Snapshot) error {
	_, err := s.db.ExecContext(ctx, `UPDATE snapshots SET ready = ?, size_bytes = ?, pinned = ? WHERE id = ?`, sn.Ready, sn.Size, sn.Pinned, sn.ID)
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
	return queryAll(ctx, s.db, "listing snapshots", func(r scanner) (*sandbox.Snapshot, error) {
		var sn sandbox.Snapshot
		var created int64
		err := r.Scan(&sn.ID, &sn.SandboxID, &sn.TeamID, &sn.Name, &sn.Ready, &sn.Size, &sn.Secret, &created, &sn.Pinned)
		sn.CreatedAt = fromUnix(created)
		return &sn, err
	}, `SELECT id, sandbox_id, team_id, name, ready, size_bytes, secret, created_at, pinned
		FROM snapshots WHERE (? = '' OR sandbox_id = ?) ORDER BY created_at, id`, sandboxID, sandboxID)
}
