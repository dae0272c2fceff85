// Package layer keeps the filesystem layers of custom templates on the
// host and stacks them with overlayfs. A layer is the upper directory of
// the overlay a build step wrote into: its new and changed files, with
// whiteouts (0:0 character devices) for removed ones and opaque
// directories. Layers are immutable once committed and named by the build
// step's cache key, so templates share them and a sandbox never copies
// one. A stack of layers over a built-in template's root filesystem is
// mounted read-only once and shared by every sandbox of that template.
package layer

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
)

// Layer is a committed layer's record.
type Layer struct {
	ID        string    `json:"id"`
	Parent    string    `json:"parent,omitempty"` // the layer below, or "" over a base
	CreatedBy string    `json:"created_by"`       // the instruction, e.g. "RUN npm ci"
	Created   time.Time `json:"created"`
	Size      int64     `json:"size"` // bytes its files take on disk
}

const (
	cacheDir   = "cache"
	recordFile = "layer.json"
	filesDir   = "fs"
	tmpPrefix  = ".tmp-"
)

var idPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Store keeps layers under one directory.
type Store struct {
	dir string
	log *slog.Logger
}

// Open returns the store at dir, creating it.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the layer store: %w", err)
	}
	return &Store{dir: dir, log: log.With("component", "layers")}, nil
}

// RemoveUnfinished removes the layers builds that died left unfinished,
// with their mounts. Call it once the sandboxes of those builds are gone.
func (s *Store) RemoveUnfinished() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("reading the layer store: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			s.removeTmp(filepath.Join(s.dir, e.Name()))
		}
	}
	return nil
}

// Cached returns the layer last committed under a build step's cache key.
func (s *Store) Cached(key string) (Layer, bool) {
	if !idPattern.MatchString(key) {
		return Layer{}, false
	}
	b, err := os.ReadFile(filepath.Join(s.dir, cacheDir, key))
	if err != nil {
		return Layer{}, false
	}
	l, err := s.Get(strings.TrimSpace(string(b)))
	if err != nil {
		return Layer{}, false
	}
	s.touch(l.ID)
	return l, true
}

// SetCache makes layer id the one for a build step's cache key, replacing
// the one before (a build with --no-cache makes new layers, which later
// builds take).
func (s *Store) SetCache(key, id string) error {
	if !idPattern.MatchString(key) || !idPattern.MatchString(id) {
		return fmt.Errorf("%w: cache key %q or layer ID %q", errdefs.ErrInvalidArgument, key, id)
	}
	if err := os.MkdirAll(filepath.Join(s.dir, cacheDir), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.dir, cacheDir, key), []byte(id+"\n"), 0o600)
}

// Path returns the directory of layer id's files.
func (s *Store) Path(id string) string { return filepath.Join(s.dir, id, filesDir) }

// Get returns layer id's record; a layer that was never committed wraps
// errdefs.ErrNotFound.
func (s *Store) Get(id string) (Layer, error) {
	if !idPattern.MatchString(id) {
		return Layer{}, fmt.Errorf("%w: layer ID %q", errdefs.ErrInvalidArgument, id)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, id, recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return Layer{}, fmt.Errorf("layer %.12s: %w", id, errdefs.ErrNotFound)
	}
	if err != nil {
		return Layer{}, fmt.Errorf("reading layer %.12s: %w", id, err)
	}
	var l Layer
	if err := json.Unmarshal(b, &l); err != nil {
		return Layer{}, fmt.Errorf("reading layer %.12s: %w", id, err)
	}
	return l, nil
}

// Pending is a layer being written.
type Pending struct {
	s   *Store
	id  string
	dir string // tmp dir: fs/ (the upper), work/ (overlayfs's)
}

// Create starts layer id. Its files are written into Files(), usually as
// the upper directory of an overlay; Commit makes it a layer, Abort drops it.
func (s *Store) Create(id string) (*Pending, error) {
	if !idPattern.MatchString(id) {
		return nil, fmt.Errorf("%w: layer ID %q", errdefs.ErrInvalidArgument, id)
	}
	dir, err := os.MkdirTemp(s.dir, tmpPrefix+id[:12]+"-")
	if err != nil {
		return nil, fmt.Errorf("creating layer %.12s: %w", id, err)
	}
	for _, d := range []string{filesDir, "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("creating layer %.12s: %w", id, err)
		}
	}
	return &Pending{s: s, id: id, dir: dir}, nil
}

// Files is the directory the layer's files go into.
func (p *Pending) Files() string { return filepath.Join(p.dir, filesDir) }

// work is overlayfs's work directory for an overlay whose upper is Files.
func (p *Pending) work() string { return filepath.Join(p.dir, "work") }

// Commit records the layer and moves it into place, durably. A layer of
// the same ID committed meanwhile (by a build running alongside) wins,
// and this one is dropped.
func (p *Pending) Commit(parent, createdBy string) (Layer, error) {
	if err := hostfs.UnmountUnder(p.dir); err != nil {
		p.Abort()
		return Layer{}, fmt.Errorf("committing layer %.12s: %w", p.id, err)
	}
	os.RemoveAll(p.work())
	os.Remove(filepath.Join(p.dir, "root"))
	size, err := hostfs.DiskUsage(p.Files())
	if err != nil {
		p.Abort()
		return Layer{}, fmt.Errorf("measuring layer %.12s: %w", p.id, err)
	}
	l := Layer{ID: p.id, Parent: parent, CreatedBy: createdBy, Created: time.Now().UTC().Truncate(time.Second), Size: size}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		p.Abort()
		return Layer{}, err
	}
	hostfs.SyncAll() // the files are on disk before the record says the layer is whole
	if err := atomicfile.WriteFile(filepath.Join(p.dir, recordFile), b, 0o644); err != nil {
		p.Abort()
		return Layer{}, fmt.Errorf("recording layer %.12s: %w", p.id, err)
	}
	final := filepath.Join(p.s.dir, p.id)
	if err := os.Rename(p.dir, final); err != nil {
		p.Abort()
		if existing, gerr := p.s.Get(p.id); gerr == nil {
			return existing, nil
		}
		return Layer{}, fmt.Errorf("committing layer %.12s: %w", p.id, err)
	}
	if err := atomicfile.SyncDir(p.s.dir); err != nil {
		p.s.log.Warn("syncing the layer store", "err", err)
	}
	return l, nil
}

// Abort drops the pending layer.
func (p *Pending) Abort() { p.s.removeTmp(p.dir) }

func (s *Store) removeTmp(dir string) {
	if err := hostfs.UnmountUnder(dir); err != nil {
		s.log.Warn("unmounting under an unfinished layer", "dir", dir, "err", err)
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn("removing an unfinished layer", "dir", dir, "err", err)
	}
}
