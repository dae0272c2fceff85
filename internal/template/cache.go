package template

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/hostfs"
)

const (
	metaFile        = "meta.json"
	buildPrefix     = ".build-"
	hashPrefixChars = 12
)

// meta is meta.json of a finished build. Its presence is what makes a
// build ready.
type meta struct {
	Name          string    `json:"name"`
	Recipe        string    `json:"recipe"`
	Format        int       `json:"format"`
	BuiltAt       time.Time `json:"builtAt"`
	BuildDuration string    `json:"buildDuration"`
	Size          int64     `json:"size"`
	// Packages are the versions installed (see installedVersions).
	Packages map[string]string `json:"packages,omitempty"`
}

// failure is <name>.failed.json: the last failed build of a template.
type failure struct {
	Recipe string    `json:"recipe"`
	Error  string    `json:"error"`
	At     time.Time `json:"at"`
}

func (m *Manager) buildDir(name, hash string) string {
	return filepath.Join(m.dir, name+"-"+hash[:hashPrefixChars])
}

func (m *Manager) lockPath(name string) string {
	return filepath.Join(m.dir, name+".lock")
}

func (m *Manager) failurePath(name string) string {
	return filepath.Join(m.dir, name+".failed.json")
}

func readMeta(dir string) (meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return meta{}, err
	}
	var md meta
	if err := json.Unmarshal(b, &md); err != nil {
		return meta{}, fmt.Errorf("parsing %s: %w", filepath.Join(dir, metaFile), err)
	}
	return md, nil
}

func (m *Manager) readFailure(name string) (failure, bool) {
	b, err := os.ReadFile(m.failurePath(name))
	if err != nil {
		return failure{}, false
	}
	var f failure
	if err := json.Unmarshal(b, &f); err != nil {
		return failure{}, false
	}
	return f, true
}

func (m *Manager) recordFailure(name, hash string, buildErr error) {
	b, _ := json.Marshal(failure{Recipe: hash, Error: buildErr.Error(), At: time.Now().UTC()})
	if err := atomicfile.WriteFile(m.failurePath(name), b, 0o644); err != nil {
		m.log.Warn("recording build failure", "template", name, "err", err)
	}
}

func (m *Manager) clearFailure(name string) {
	if err := os.Remove(m.failurePath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.log.Warn("clearing build failure", "template", name, "err", err)
	}
}

// buildDirName matches ".build-<name>-<random>" and captures the name.
var buildDirName = regexp.MustCompile(`^\.build-([a-z][a-z0-9-]*)-[0-9]+$`)

// removeStaleBuilds removes .build-* directories of crashed builds: those
// whose template lock nobody holds. With only != "", the caller holds that
// template's lock and only its directories are looked at.
func (m *Manager) removeStaleBuilds(only string) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		m.log.Warn("listing template cache", "dir", m.dir, "err", err)
		return
	}
	for _, e := range entries {
		sub := buildDirName.FindStringSubmatch(e.Name())
		if sub == nil || !e.IsDir() {
			continue
		}
		name := sub[1]
		if only != "" && name != only {
			continue
		}
		path := filepath.Join(m.dir, e.Name())
		if only == "" {
			l, ok, err := tryLock(m.lockPath(name))
			if err != nil || !ok {
				continue // being built right now, or cannot tell
			}
			m.removeLogged(path, "stale build")
			l.Unlock()
			continue
		}
		m.removeLogged(path, "stale build")
	}
}

func (m *Manager) removeLogged(path, what string) {
	m.log.Info("removing "+what, "path", path)
	if err := removeTree(path); err != nil {
		m.log.Warn("removing "+what, "path", path, "err", err)
	}
}

// cachedBuild matches "<name>-<hash[:12]>".
var cachedBuild = regexp.MustCompile(`^([a-z][a-z0-9-]*)-([0-9a-f]{12})$`)

// Prune deletes builds that are not the current build of a known template:
// builds of older recipes, of removed templates, and incomplete ones. A
// rootfs is only safe to delete when no sandbox runs on it, so builds for
// which inUse (may be nil) returns true are kept; the caller knows which
// rootfs directories its sandboxes use. Builds are never deleted
// automatically.
func (m *Manager) Prune(ctx context.Context, inUse func(rootfs string) bool) error {
	current := map[string]bool{}
	for _, r := range m.recipes {
		current[filepath.Base(m.buildDir(r.Name, m.currentHash(r)))] = true
	}
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return fmt.Errorf("listing template cache: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		sub := cachedBuild.FindStringSubmatch(e.Name())
		if sub == nil || !e.IsDir() || current[e.Name()] {
			continue
		}
		path := filepath.Join(m.dir, e.Name())
		rootfs := filepath.Join(path, "rootfs")
		if inUse != nil && inUse(rootfs) {
			m.log.Info("keeping old template build in use", "path", path)
			continue
		}
		if err := m.pruneOne(ctx, sub[1], path); err != nil {
			errs = append(errs, err)
		}
	}
	m.removeStaleBuilds("")
	return errors.Join(errs...)
}

// pruneOne removes one old build under its template's lock, so that it
// cannot race with a build that is renaming a directory into place.
func (m *Manager) pruneOne(ctx context.Context, name, path string) error {
	l, err := lock(ctx, m.lockPath(name), nil)
	if err != nil {
		return fmt.Errorf("locking template %q: %w", name, err)
	}
	defer l.Unlock()
	m.log.Info("pruning template build", "template", name, "path", path)
	// Make it not-ready first, so a crash halfway leaves no ready half-tree.
	if err := os.Remove(filepath.Join(path, metaFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pruning %s: %w", path, err)
	}
	if err := removeTree(path); err != nil {
		return fmt.Errorf("pruning %s: %w", path, err)
	}
	return nil
}

// removeTree detaches any mount left under path (a killed chroot step) and
// removes it. It never follows mounts into host filesystems.
func removeTree(path string) error {
	if !strings.HasPrefix(filepath.Base(path), buildPrefix) && !cachedBuild.MatchString(filepath.Base(path)) {
		return fmt.Errorf("refusing to remove %s: not a template build directory", path)
	}
	if err := hostfs.UnmountUnder(path); err != nil {
		return err
	}
	return os.RemoveAll(path)
}
