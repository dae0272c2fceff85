package layer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/hostfs"
)

// Pruning: a shared mount goes once no kept stack is it and no sandbox
// runs on it; a layer goes once no kept stack or remaining mount has it
// and no build has used it for a while, so that the steps of a failed or
// removed build stay cached for the next one.

// stackSuffix names the file beside a shared mount that says its stack.
const stackSuffix = ".stack"

// recordStack writes s beside its shared mount target, once.
func recordStack(target string, s Stack) error {
	path := target + stackSuffix
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o600)
}

// Pruned says what a prune removed.
type Pruned struct {
	Mounts, Layers int
	Bytes          int64 // the removed layers' size
}

// Prune unmounts the shared mounts of stacks that are not in keep and that
// inUse (given a mount's path) says no sandbox runs on, then removes the
// layers no kept stack or remaining mount has and that no build has used
// for idle.
func (st *Store) Prune(keep []Stack, inUse func(path string) bool, idle time.Duration) (Pruned, error) {
	var out Pruned
	needed := map[string]bool{}
	for _, s := range keep {
		needed[st.SharedPath(s)] = true
	}
	mounted, complete, err := st.pruneMounts(needed, inUse, &out)
	if err != nil {
		return out, err
	}
	keepIDs := map[string]bool{}
	for _, s := range append(keep, mounted...) {
		for _, id := range s.Layers {
			keepIDs[id] = true
		}
	}
	if !complete {
		st.log.Warn("a shared mount has no record of its stack: no layer is removed until the next start")
		return out, nil
	}
	return out, st.pruneLayers(keepIDs, idle, &out)
}

// pruneMounts unmounts what no one needs, and returns the stacks of the
// mounts that stay; complete is false if one of those has no record.
func (st *Store) pruneMounts(needed map[string]bool, inUse func(string) bool, out *Pruned) (stay []Stack, complete bool, err error) {
	mountMu.Lock()
	defer mountMu.Unlock()
	dir := filepath.Join(st.dir, "mounts")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the shared mounts: %w", err)
	}
	complete = true
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if needed[path] || inUse(path) {
			s, err := readStack(path)
			complete = complete && err == nil
			stay = append(stay, s)
			continue
		}
		if err := hostfs.UnmountUnder(path); err != nil {
			return nil, false, err
		}
		os.Remove(path + stackSuffix)
		if err := os.Remove(path); err != nil {
			return nil, false, fmt.Errorf("removing a shared mount: %w", err)
		}
		out.Mounts++
	}
	return stay, complete, nil
}

func readStack(mount string) (Stack, error) {
	var s Stack
	b, err := os.ReadFile(mount + stackSuffix)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	return s, err
}

// pruneLayers removes the committed layers not in keep that were last
// used more than idle ago, and, first, the cache entries that name them.
func (st *Store) pruneLayers(keep map[string]bool, idle time.Duration, out *Pruned) error {
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		return fmt.Errorf("reading the layer store: %w", err)
	}
	gone := map[string]Layer{}
	for _, e := range entries {
		id := e.Name()
		if !idPattern.MatchString(id) || keep[id] {
			continue
		}
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < idle {
			continue
		}
		if l, err := st.Get(id); err == nil {
			gone[id] = l
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if err := st.removeCacheOf(gone); err != nil {
		return err
	}
	for id, l := range gone {
		if err := os.RemoveAll(filepath.Join(st.dir, id)); err != nil {
			return fmt.Errorf("removing layer %.12s: %w", id, err)
		}
		out.Layers++
		out.Bytes += l.Size
	}
	return nil
}

// removeCacheOf removes the cache entries that name one of ids.
func (st *Store) removeCacheOf(ids map[string]Layer) error {
	dir := filepath.Join(st.dir, cacheDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the build cache: %w", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if _, named := ids[strings.TrimSpace(string(b))]; err == nil && named {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("removing a build cache entry: %w", err)
			}
		}
	}
	return nil
}

// touch marks layer id as used now, so that a prune keeps it idle longer.
func (st *Store) touch(id string) {
	now := time.Now()
	if err := os.Chtimes(filepath.Join(st.dir, id), now, now); err != nil {
		st.log.Warn("marking a layer used", "layer", id, "err", err)
	}
}
