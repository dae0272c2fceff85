package template

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Status values of Info.Status.
const (
	StatusReady    = "ready"
	StatusBuilding = "building"
	StatusMissing  = "missing"
	StatusFailed   = "failed"
)

// Config configures a Manager.
type Config struct {
	// Dir is the cache root, e.g. /var/lib/runtools/templates. Several
	// processes may share it.
	Dir string
	// Recipes overrides the built-in recipes (tests, other packages' fakes).
	Recipes []Recipe
	// Builder overrides the mmdebstrap builder (tests).
	Builder Builder
	// Dockerfile builds the recipes that have a Dockerfile. Without it
	// they can be used once built but not built.
	Dockerfile Builder
}

// Info describes a template and the state of its current build.
type Info struct {
	Name        string    `json:"name"`
	Aliases     []string  `json:"aliases,omitempty"`
	Description string    `json:"description"`
	Status      string    `json:"status"`           // StatusReady, StatusBuilding, StatusMissing or StatusFailed
	RootFS      string    `json:"rootfs,omitempty"` // absolute path of the read-only rootfs when ready
	Size        int64     `json:"size,omitempty"`   // bytes on disk, measured once after the build
	BuiltAt     time.Time `json:"builtAt,omitzero"`
	Recipe      string    `json:"recipe"`             // recipe hash
	Error       string    `json:"error,omitempty"`    // last build error, if failed
	MemoryMB    int       `json:"memoryMB,omitempty"` // default memory of its sandboxes
	Ports       []int     `json:"ports,omitempty"`    // exposed on its sandboxes besides the defaults
	Desktop     bool      `json:"desktop,omitempty"`  // its sandboxes run the desktop (VNC)
	// Packages are the versions its build installed: the Debian packages
	// of its recipe, and "npm:name" for global npm packages.
	Packages map[string]string `json:"packages,omitempty"`
	Tracked  []string          `json:"tracked,omitempty"` // the packages KeyVersions names
}

// Progress is one event of a build, for display.
type Progress struct {
	Template string
	Step     string        // e.g. "installing Bun"
	Detail   string        // one line of output, or "" when a step starts
	Elapsed  time.Duration // since the build started
	Done     bool          // the last event of a successful build
}

// Manager builds, caches and lists templates under one directory.
type Manager struct {
	dir     string
	recipes []Recipe
	builder Builder
	docker  Builder // nil: Dockerfile recipes are not built here
	log     *slog.Logger
}

// New returns a Manager for cfg.Dir, creating it if needed, and removes
// build directories left behind by crashed builds.
func New(cfg Config, log *slog.Logger) (*Manager, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("template cache dir not set: %w", errdefs.ErrInvalidArgument)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("template cache dir %q: %w", cfg.Dir, err)
	}
	recipes := cfg.Recipes
	if recipes == nil {
		recipes = Builtin()
	}
	if err := validateRecipes(recipes); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating template cache dir: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{dir: dir, recipes: recipes, builder: cfg.Builder, docker: cfg.Dockerfile, log: log.With("component", "template")}
	if m.builder == nil {
		m.builder = NewDebianBuilder(m.log)
	}
	m.removeStaleBuilds("")
	return m, nil
}

// Names returns the canonical template names in recipe order. Aliases are
// accepted by Get, Resolve and Build but not listed here.
func (m *Manager) Names() []string {
	names := make([]string, len(m.recipes))
	for i, r := range m.recipes {
		names[i] = r.Name
	}
	return names
}

// List returns every template with its current status.
func (m *Manager) List(ctx context.Context) ([]Info, error) {
	infos := make([]Info, 0, len(m.recipes))
	for _, r := range m.recipes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		infos = append(infos, m.info(m.withParent(r)))
	}
	return infos, nil
}

// Get returns the template called name (or one of its aliases).
func (m *Manager) Get(ctx context.Context, name string) (Info, error) {
	r, err := m.recipe(name)
	if err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	return m.info(r), nil
}

// Resolve returns the rootfs directory of the template's current build. A
// template that is not built wraps errdefs.ErrUnavailable.
func (m *Manager) Resolve(ctx context.Context, name string) (string, error) {
	info, err := m.Get(ctx, name)
	if err != nil {
		return "", err
	}
	return ReadyRootFS(info)
}

// ReadyRootFS returns the rootfs directory of a template as info describes
// it, or, when it is not built, an error that wraps errdefs.ErrUnavailable
// and says what to do.
func ReadyRootFS(info Info) (string, error) {
	switch info.Status {
	case StatusReady:
		return info.RootFS, nil
	case StatusBuilding:
		return "", fmt.Errorf("template %q is being built; try again when `runtools template list` shows it ready: %w", info.Name, errdefs.ErrUnavailable)
	case StatusFailed:
		first, _, _ := strings.Cut(info.Error, "\n")
		return "", fmt.Errorf("template %q failed to build (%s); retry with `runtools template build %s`: %w", info.Name, first, info.Name, errdefs.ErrUnavailable)
	default:
		return "", fmt.Errorf("template %q is not built yet; build it with `runtools template build %s`: %w", info.Name, info.Name, errdefs.ErrUnavailable)
	}
}

// recipe finds a recipe by name or alias.
func (m *Manager) recipe(name string) (Recipe, error) {
	for _, r := range m.recipes {
		if r.Name == name || slices.Contains(r.Aliases, name) {
			return m.withParent(r), nil
		}
	}
	var known []string
	for _, r := range m.recipes {
		known = append(known, r.Name)
		for _, a := range r.Aliases {
			known = append(known, fmt.Sprintf("%s (alias of %s)", a, r.Name))
		}
	}
	return Recipe{}, fmt.Errorf("unknown template %q; available: %s: %w", name, strings.Join(known, ", "), errdefs.ErrNotFound)
}

// withParent fills in the identity of the current build of the template
// a Dockerfile recipe starts FROM, which is part of its own identity.
func (m *Manager) withParent(r Recipe) Recipe {
	if r.Dockerfile == nil {
		return r
	}
	d := *r.Dockerfile
	if p, err := m.recipe(d.From); err == nil {
		d.parent = m.currentHash(p)
	}
	r.Dockerfile = &d
	return r
}

// info reads the state of r's current build from disk.
func (m *Manager) info(r Recipe) Info {
	hash := m.currentHash(r)
	info := Info{
		Name:        r.Name,
		Aliases:     append([]string(nil), r.Aliases...),
		Description: r.Description,
		Status:      StatusMissing,
		Recipe:      hash,
		MemoryMB:    r.MemoryMB,
		Ports:       append([]int(nil), r.Ports...),
		Desktop:     r.Desktop,
		Tracked:     append([]string(nil), r.Tracked...),
	}
	if md, ok := m.ready(r.Name, hash); ok {
		info.Status = StatusReady
		info.RootFS = filepath.Join(m.buildDir(r.Name, hash), "rootfs")
		info.Size = md.Size
		info.BuiltAt = md.BuiltAt
		info.Packages = md.Packages
		return info
	}
	if lockHeld(m.lockPath(r.Name)) {
		info.Status = StatusBuilding
		return info
	}
	if f, ok := m.readFailure(r.Name); ok && f.Recipe == hash {
		info.Status = StatusFailed
		info.Error = f.Error
	}
	return info
}

// ready reports whether the build of name at hash is complete.
func (m *Manager) ready(name, hash string) (meta, bool) {
	md, err := readMeta(m.buildDir(name, hash))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("ignoring unreadable template build", "template", name, "err", err)
		}
		return meta{}, false
	}
	if md.Name != name || md.Recipe != hash {
		return meta{}, false
	}
	if fi, err := os.Stat(filepath.Join(m.buildDir(name, hash), "rootfs")); err != nil || !fi.IsDir() {
		return meta{}, false
	}
	return md, true
}
