package build

import (
	"context"
	"fmt"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
)

// Latest returns the newest version of the custom template called name
// that team may use: its own, else a public one.
func (b *Builder) Latest(ctx context.Context, teamID, name string) (*Template, error) {
	all, err := b.store.Templates(ctx, teamID)
	if err != nil {
		return nil, err
	}
	var best *Template
	for _, t := range all {
		if t.Name != name || t.TeamID != teamID && !t.Public {
			continue
		}
		if best == nil || t.TeamID == teamID && best.TeamID != teamID || t.TeamID == best.TeamID && t.Version > best.Version {
			best = t
		}
	}
	if best == nil {
		return nil, fmt.Errorf("unknown template %q: %w", name, errdefs.ErrNotFound)
	}
	return best, nil
}

// MountAll mounts the stack of every custom template version, so that the
// paused sandboxes of each resume after a host restart.
func (b *Builder) MountAll(ctx context.Context) error {
	all, err := b.store.Templates(ctx, "")
	if err != nil {
		return err
	}
	for _, t := range all {
		if _, err := b.layers.RootFS(t.Stack); err != nil {
			b.log.Warn("mounting a custom template", "template", t.Name, "version", t.Version, "err", err)
		}
	}
	return nil
}

// Visible returns the newest version of each custom template team may use:
// its own, and the public ones of other teams (where a name is both, its
// own).
func (b *Builder) Visible(ctx context.Context, teamID string) ([]*Template, error) {
	all, err := b.store.Templates(ctx, teamID)
	if err != nil {
		return nil, err
	}
	var out []*Template
	seen := map[string]bool{}
	for _, t := range all {
		if seen[t.Name] {
			continue
		}
		if best, err := b.Latest(ctx, teamID, t.Name); err == nil {
			out = append(out, best)
			seen[t.Name] = true
		}
	}
	return out, nil
}

// Versions returns every version of the team's template called name,
// newest first.
func (b *Builder) Versions(ctx context.Context, teamID, name string) ([]*Template, error) {
	all, err := b.store.Templates(ctx, teamID)
	if err != nil {
		return nil, err
	}
	var out []*Template
	for _, t := range all {
		if t.Name == name && t.TeamID == teamID {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("unknown template %q: %w", name, errdefs.ErrNotFound)
	}
	return out, nil
}

// Remove forgets every version of the team's template called name. The
// caller has checked that no sandbox uses it. Its layers stay in the
// cache, where later builds find them.
func (b *Builder) Remove(ctx context.Context, teamID, name string) error {
	versions, err := b.Versions(ctx, teamID, name)
	if err != nil {
		return err
	}
	for _, t := range versions {
		if err := b.store.DeleteTemplate(ctx, t.ID); err != nil {
			return err
		}
	}
	b.log.Info("template removed", "template", name, "team", teamID, "versions", len(versions))
	return nil
}

// SetPublic lets every team use the team's template called name, or only
// the team again. Sandboxes of other teams made meanwhile keep running.
func (b *Builder) SetPublic(ctx context.Context, teamID, name string, public bool) error {
	if _, err := b.Versions(ctx, teamID, name); err != nil {
		return err
	}
	if err := b.store.SetTemplatePublic(ctx, teamID, name, public); err != nil {
		return err
	}
	b.log.Info("template visibility changed", "template", name, "team", teamID, "public", public)
	return nil
}

// Layers returns the records of a template's own layers, the lowest first.
func (b *Builder) Layers(t *Template) []layer.Layer {
	var out []layer.Layer
	for _, id := range t.Stack.Layers {
		if l, err := b.layers.Get(id); err == nil {
			out = append(out, l)
		}
	}
	return out
}
