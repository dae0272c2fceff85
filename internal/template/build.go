package template

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
)

// Builder makes a root filesystem from a recipe.
type Builder interface {
	// Build creates r's root filesystem at rootfs, which does not exist yet
	// (its parent does), reporting steps and output to rep. It must leave
	// nothing mounted under rootfs, whether it succeeds or not; the caller
	// removes the directory after a failure.
	Build(ctx context.Context, r Recipe, rootfs string, rep Reporter) error
}

// Build builds the template called name (or an alias) unless its cached
// build matches the current recipe, in which case it returns at once.
// Builds of one template are serialized across goroutines and processes
// sharing the cache directory. progress may be nil.
func (m *Manager) Build(ctx context.Context, name string, progress func(Progress)) (Info, error) {
	return m.buildTemplate(ctx, name, false, progress)
}

// Rebuild builds the template called name from scratch even when its
// cached build matches the recipe: Debian's archive moves, and this is how
// a template gets what it has today. The new build becomes current once it
// is complete; the old one stays for the sandboxes that use it, until
// Prune. A failed rebuild leaves the old build current.
func (m *Manager) Rebuild(ctx context.Context, name string, progress func(Progress)) (Info, error) {
	return m.buildTemplate(ctx, name, true, progress)
}

func (m *Manager) buildTemplate(ctx context.Context, name string, fresh bool, progress func(Progress)) (Info, error) {
	r, err := m.recipe(name)
	if err != nil {
		return Info{}, err
	}
	rep := newBuildLog(r.Name, progress)
	if _, ok := m.ready(r.Name, m.currentHash(r)); ok && !fresh {
		rep.done("up to date")
		return m.info(r), nil
	}

	l, err := lock(ctx, m.lockPath(r.Name), func() { rep.Step("waiting for another build of " + r.Name) })
	if err != nil {
		return Info{}, fmt.Errorf("building template %q: waiting for lock: %w", r.Name, err)
	}
	defer l.Unlock()
	gen := m.generation(r.Name)
	if fresh {
		gen++
	} else if _, ok := m.ready(r.Name, hashAt(r, gen)); ok {
		rep.done("built by another build meanwhile")
		return m.info(r), nil
	}
	hash := hashAt(r, gen)
	m.removeStaleBuilds(r.Name)

	log := m.log.With("template", r.Name, "recipe", hash[:hashPrefixChars], "generation", gen)
	log.Info("building template")
	md, err := m.build(ctx, r, hash, rep)
	if err == nil && fresh {
		err = m.setGeneration(r.Name, gen)
	}
	if err != nil {
		err = fmt.Errorf("building template %q: %w", r.Name, err)
		if ctx.Err() == nil {
			m.recordFailure(r.Name, hash, err)
		}
		log.Error("template build failed", "err", err, "elapsed", time.Since(rep.start).Round(time.Millisecond))
		return Info{}, err
	}
	m.clearFailure(r.Name)
	log.Info("template built", "duration", md.BuildDuration, "size", md.Size)
	rep.done(fmt.Sprintf("%s, %d MB, in %s", r.Name, md.Size>>20, md.BuildDuration))
	return m.info(r), nil
}

// build runs the builder in a temporary sibling directory and renames it
// into place only once it is complete, with meta.json written last. The
// caller holds the template's lock.
func (m *Manager) build(ctx context.Context, r Recipe, hash string, rep *buildLog) (meta, error) {
	tmp, err := os.MkdirTemp(m.dir, buildPrefix+r.Name+"-*")
	if err != nil {
		return meta{}, fmt.Errorf("creating build dir: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			if err := removeTree(tmp); err != nil {
				m.log.Warn("removing failed build", "path", tmp, "err", err)
			}
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return meta{}, fmt.Errorf("creating build dir: %w", err)
	}
	rootfs := filepath.Join(tmp, "rootfs")
	builder, err := m.builderOf(r)
	if err != nil {
		return meta{}, rep.fail(err)
	}
	if err := builder.Build(ctx, r, rootfs, rep); err != nil {
		return meta{}, rep.fail(err)
	}

	rep.Step("finalizing")
	if err := hostfs.UnmountUnder(tmp); err != nil { // a template must never carry a mount
		return meta{}, rep.fail(err)
	}
	size, err := hostfs.DiskUsage(rootfs)
	if err != nil {
		return meta{}, rep.fail(fmt.Errorf("measuring rootfs: %w", err))
	}
	pkgs, err := installedVersions(rootfs, r)
	if err != nil {
		return meta{}, rep.fail(err)
	}
	md := meta{
		Name:          r.Name,
		Recipe:        hash,
		Format:        formatVersion,
		BuiltAt:       time.Now().UTC().Truncate(time.Second),
		BuildDuration: time.Since(rep.start).Round(time.Second).String(),
		Size:          size,
		Packages:      pkgs,
	}
	fmt.Fprintf(rep, "rootfs size %d MB\n", size>>20)
	if v := (Info{Packages: pkgs, Tracked: r.Tracked}).KeyVersions(); v != "" {
		fmt.Fprintf(rep, "versions: %s\n", v)
	}
	if err := ctx.Err(); err != nil {
		return meta{}, err
	}
	// The rootfs files must be on disk before meta.json says they are.
	hostfs.SyncAll()
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return meta{}, rep.fail(err)
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, metaFile), b, 0o644); err != nil {
		return meta{}, rep.fail(fmt.Errorf("writing %s: %w", metaFile, err))
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return meta{}, rep.fail(fmt.Errorf("syncing build dir: %w", err))
	}
	if err := m.moveIntoPlace(tmp, m.buildDir(r.Name, hash)); err != nil {
		return meta{}, rep.fail(err)
	}
	committed = true
	return md, nil
}

// moveIntoPlace renames a complete build directory to final.
func (m *Manager) moveIntoPlace(tmp, final string) error {
	// Anything already there is not ready (we checked under the lock): an
	// incomplete leftover that would block the rename.
	if _, err := os.Lstat(final); err == nil {
		if err := removeTree(final); err != nil {
			return fmt.Errorf("removing incomplete %s: %w", final, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("moving build into place: %w", err)
	}
	if err := atomicfile.SyncDir(m.dir); err != nil {
		m.log.Warn("syncing template cache dir", "err", err)
	}
	return nil
}

// builderOf returns what builds r: Debian's bootstrap, or for a recipe
// with a Dockerfile the custom-template machinery, if this Manager has it.
func (m *Manager) builderOf(r Recipe) (Builder, error) {
	if r.Dockerfile == nil {
		return m.builder, nil
	}
	if m.docker == nil {
		return nil, fmt.Errorf("template %s is built from a Dockerfile by `sudo runtools server build-templates %s` (make up and make test run it): %w",
			r.Name, r.Name, errdefs.ErrUnavailable)
	}
	return m.docker, nil
}
