package build

import (
	"context"
	"time"

	"github.com/runtools/runtools/internal/layer"
)

// supersededGrace is how long a version a rebuild replaced stays at least:
// a create that chose it just before the rebuild has started on it by then.
const supersededGrace = 5 * time.Minute

// Prune removes the versions of custom templates that a newer version of
// the same name replaced and that no sandbox runs on (inUse says whether
// one runs on a root filesystem), their shared mounts, and the cached
// layers no template has and no build used for Options.CacheTTL.
func (b *Builder) Prune(ctx context.Context, inUse func(rootfs string) bool) error {
	all, err := b.store.Templates(ctx, "") // every team's, newest first
	if err != nil {
		return err
	}
	newest := map[string]*Template{}
	var keep []layer.Stack
	removed := 0
	for _, t := range all {
		name := t.TeamID + "/" + t.Name
		n := newest[name]
		if n == nil {
			newest[name] = t
		}
		if n == nil || b.now().Sub(n.CreatedAt) < supersededGrace || inUse(b.layers.SharedPath(t.Stack)) {
			keep = append(keep, t.Stack)
			continue
		}
		if err := b.store.DeleteTemplate(ctx, t.ID); err != nil {
			return err
		}
		removed++
		b.log.Info("removed a template version nothing uses any more", "template", t.Name, "team", t.TeamID, "version", t.Version, "newest", n.Version)
	}
	p, err := b.layers.Prune(keep, inUse, b.cfg.CacheTTL)
	if removed > 0 || p.Mounts > 0 || p.Layers > 0 {
		b.log.Info("pruned templates", "versions", removed, "mounts", p.Mounts, "layers", p.Layers, "freed_bytes", p.Bytes)
	}
	return err
}
