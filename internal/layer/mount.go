package layer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/runtools/runtools/internal/hostfs"
)

// A Stack is what a root filesystem is made of: a base directory (a
// built-in template's rootfs, or "" for an empty one) and layers over it,
// the lowest first.
type Stack struct {
	Base   string
	Layers []string // layer IDs, the lowest first
}

// Push returns s with layer id on top.
func (s Stack) Push(id string) Stack {
	return Stack{Base: s.Base, Layers: append(append([]string(nil), s.Layers...), id)}
}

// Top returns the ID of the top layer, or "" when s has none.
func (s Stack) Top() string {
	if len(s.Layers) == 0 {
		return ""
	}
	return s.Layers[len(s.Layers)-1]
}

// key names a stack for its shared mount.
func (s Stack) key() string {
	sum := sha256.Sum256([]byte(s.Base + "\n" + strings.Join(s.Layers, "\n")))
	return hex.EncodeToString(sum[:8])
}

// lowers returns the directories of s for overlayfs, the top one first.
func (st *Store) lowers(s Stack) ([]string, error) {
	var dirs []string
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if _, err := st.Get(s.Layers[i]); err != nil {
			return nil, err
		}
		dirs = append(dirs, st.Path(s.Layers[i]))
	}
	if s.Base != "" {
		dirs = append(dirs, s.Base)
	} else {
		dirs = append(dirs, st.empty())
	}
	return dirs, nil
}

// empty is the bottom of a stack with no base: an empty directory.
func (st *Store) empty() string { return filepath.Join(st.dir, "empty") }

// Writable mounts s with p on top, read-write: what a build step runs on.
// It returns the root filesystem's path; Commit and Abort unmount it.
func (st *Store) Writable(s Stack, p *Pending) (string, error) {
	lowers, err := st.lowers(s)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(st.empty(), 0o755); err != nil {
		return "", err
	}
	root := filepath.Join(p.dir, "root")
	if err := hostfs.Overlay(root, lowers, p.Files(), p.work()); err != nil {
		return "", fmt.Errorf("mounting layer %.12s over its stack: %w", p.id, err)
	}
	return root, nil
}

// Temporary mounts s read-only for a while (COPY --from a build stage):
// release unmounts it. A stack of only a base is the base itself.
func (st *Store) Temporary(s Stack) (string, func(), error) {
	if len(s.Layers) == 0 && s.Base != "" {
		return s.Base, func() {}, nil
	}
	lowers, err := st.lowers(s)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(st.empty(), 0o755); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(st.dir, tmpPrefix+"ro-")
	if err != nil {
		return "", nil, err
	}
	release := func() { st.removeTmp(dir) }
	root := filepath.Join(dir, "root")
	if err := hostfs.Overlay(root, lowers, "", ""); err != nil {
		release()
		return "", nil, err
	}
	return root, release, nil
}

// SharedPath is where RootFS puts s, without mounting it: the base itself
// when s has no layers.
func (st *Store) SharedPath(s Stack) string {
	if len(s.Layers) == 0 && s.Base != "" {
		return s.Base
	}
	return filepath.Join(st.dir, "mounts", s.key())
}

// mountMu serializes shared mounts, so that two sandboxes of one template
// starting at once mount it once.
var mountMu sync.Mutex

// RootFS returns the path of s as a read-only root filesystem, shared by
// every sandbox of it: the base itself when s has no layers, else an
// overlay mounted under the store once, and again after a host reboot.
func (st *Store) RootFS(s Stack) (string, error) {
	if len(s.Layers) == 0 && s.Base != "" {
		return s.Base, nil
	}
	mountMu.Lock()
	defer mountMu.Unlock()
	target := st.SharedPath(s)
	if err := recordStack(target, s); err != nil {
		return "", err
	}
	if ok, err := hostfs.Mounted(target); err != nil || ok {
		return target, err
	}
	lowers, err := st.lowers(s)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(st.empty(), 0o755); err != nil {
		return "", err
	}
	if err := hostfs.Overlay(target, lowers, "", ""); err != nil {
		return "", err
	}
	return target, nil
}
