package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/errdefs"
)

var _ build.Store = (*Store)(nil)

// InsertTemplate records a new version of a custom template.
func (s *Store) InsertTemplate(ctx context.Context, t *build.Template) error {
	stack, err := json.Marshal(t.Stack)
	if err != nil {
		return err
	}
	config, err := json.Marshal(t.Config)
	if err != nil {
		return err
	}
	return s.insert(ctx, fmt.Errorf("%w: template %s already has a version %d", errdefs.ErrConflict, t.Name, t.Version),
		"recording template "+t.Name, `INSERT INTO custom_templates
		(id, team_id, name, version, stack, config, source, from_ref, built_by, created_at, size_bytes, public)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.TeamID, t.Name, t.Version, string(stack), string(config), t.Source, t.From, t.BuiltBy, toUnix(t.CreatedAt), t.Size, t.Public)
}

// Templates lists a team's custom templates ("" for every team's) and the
// public ones, every version, newest first.
func (s *Store) Templates(ctx context.Context, teamID string) ([]*build.Template, error) {
	return queryAll(ctx, s.db, "listing templates", scanTemplate, `SELECT id, team_id, name, version, stack, config,
		source, from_ref, built_by, created_at, size_bytes, public
		FROM custom_templates WHERE ? = '' OR team_id = ? OR public = TRUE ORDER BY created_at DESC, version DESC`, teamID, teamID)
}

func scanTemplate(r scanner) (*build.Template, error) {
	var t build.Template
	var stack, config string
	var created int64
	if err := r.Scan(&t.ID, &t.TeamID, &t.Name, &t.Version, &stack, &config, &t.Source, &t.From, &t.BuiltBy, &created, &t.Size, &t.Public); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(stack), &t.Stack); err != nil {
		return nil, fmt.Errorf("reading template %s: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(config), &t.Config); err != nil {
		return nil, fmt.Errorf("reading template %s: %w", t.ID, err)
	}
	t.CreatedAt = fromUnix(created)
	return &t, nil
}

// SetTemplatePublic makes every version of a team's template public or not.
func (s *Store) SetTemplatePublic(ctx context.Context, teamID, name string, public bool) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE custom_templates SET public = ? WHERE team_id = ? AND name = ?`, public, teamID, name); err != nil {
		return fmt.Errorf("updating template %s: %w", name, err)
	}
	return nil
}

// DeleteTemplate forgets one version of a custom template.
func (s *Store) DeleteTemplate(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM custom_templates WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting template %s: %w", id, err)
	}
	return nil
}
