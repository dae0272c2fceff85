package store

import (
	"context"
	"fmt"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// SSHKey is a public key a team's members log into its sandboxes with.
type SSHKey struct {
	ID          string
	TeamID      string
	Name        string
	Fingerprint string // SHA256:...
	PublicKey   string // authorized_keys form
	CreatedAt   time.Time
}

// CreateSSHKey records a key. A name taken in the team gives errdefs.ErrAlreadyExists.
func (s *Store) CreateSSHKey(ctx context.Context, k SSHKey) error {
	return s.insert(ctx, fmt.Errorf("%w: the team already has an SSH key named %q", errdefs.ErrAlreadyExists, k.Name), "recording SSH key",
		`INSERT INTO ssh_keys (id, team_id, name, fingerprint, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.TeamID, k.Name, k.Fingerprint, k.PublicKey, toUnix(k.CreatedAt))
}

// SSHKeys lists a team's keys by name.
func (s *Store) SSHKeys(ctx context.Context, teamID string) ([]SSHKey, error) {
	return s.querySSHKeys(ctx, `SELECT id, team_id, name, fingerprint, public_key, created_at FROM ssh_keys WHERE team_id = ? ORDER BY name`, teamID)
}

// SSHKeysByFingerprint returns every key with this fingerprint (in any team).
func (s *Store) SSHKeysByFingerprint(ctx context.Context, fp string) ([]SSHKey, error) {
	return s.querySSHKeys(ctx, `SELECT id, team_id, name, fingerprint, public_key, created_at FROM ssh_keys WHERE fingerprint = ?`, fp)
}

// DeleteSSHKey removes a team's key by name or ID.
func (s *Store) DeleteSSHKey(ctx context.Context, teamID, ref string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM ssh_keys WHERE team_id = ? AND (id = ? OR name = ?)`, teamID, ref, ref)
	if err != nil {
		return fmt.Errorf("deleting SSH key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no SSH key %q", errdefs.ErrNotFound, ref)
	}
	return nil
}

func (s *Store) querySSHKeys(ctx context.Context, q string, args ...any) ([]SSHKey, error) {
	return queryAll(ctx, s.db, "reading SSH keys", func(r scanner) (SSHKey, error) {
		var k SSHKey
		var created int64
		err := r.Scan(&k.ID, &k.TeamID, &k.Name, &k.Fingerprint, &k.PublicKey, &created)
		k.CreatedAt = fromUnix(created)
		return k, err
	}, q, args...)
}
