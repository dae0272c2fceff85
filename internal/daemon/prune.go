package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/sandbox"
)

// pruneEvery is how often the daemon removes the custom template versions
// and cached layers nothing needs any more.
const pruneEvery = time.Hour

// pruneTemplates prunes custom templates now and then every pruneEvery,
// until ctx ends.
func pruneTemplates(ctx context.Context, mgr *sandbox.Manager, custom *build.Builder, dir string, log *slog.Logger) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if err := custom.Prune(ctx, rootsInUse(ctx, mgr, dir, log)); err != nil && ctx.Err() == nil {
			log.Warn("pruning custom templates", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rootsInUse returns whether a sandbox, in any state, runs on a root
// filesystem. Should the sandboxes not be listed, everything is in use.
func rootsInUse(ctx context.Context, mgr *sandbox.Manager, dir string, log *slog.Logger) func(string) bool {
	sbs, err := mgr.List(ctx, "", true)
	if err != nil {
		log.Warn("listing sandboxes to prune templates", "err", err)
		return func(string) bool { return true }
	}
	roots := map[string]bool{}
	for _, sb := range sbs {
		if rootfs, err := templateRootFS(filepath.Join(dir, sb.ID)); err == nil {
			roots[rootfs] = true
		}
	}
	return func(rootfs string) bool { return roots[rootfs] }
}
