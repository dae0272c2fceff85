package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/disk"
	"github.com/runtools/runtools/internal/errdefs"
)

// Images keeps paused sandboxes' images where every node of a cluster
// finds them (package objstore).
type Images interface {
	PutDir(ctx context.Context, key, dir string, paths []string) (int64, error)
	GetDir(ctx context.Context, key, dir string) error
	Remove(ctx context.Context, key string) error
}

// Moves is what the records keep of stored images and of sandboxes
// changing nodes.
type Moves interface {
	// SetImage records key as the stored image of a sandbox still paused
	// since pausedAt, and reports whether it was.
	SetImage(ctx context.Context, id, key string, pausedAt time.Time) (bool, error)
	// MoveSandbox gives a paused sandbox of node from to node to, at ip,
	// and reports whether it did.
	MoveSandbox(ctx context.Context, id, from, to, ip string) (bool, error)
}

// SetImages stores each pause's image in im, after the pause, so that
// another node can resume the sandbox (Move).
func (m *Manager) SetImages(im Images, mv Moves) { m.images, m.moves = im, mv }

// imageFiles are the files of a sandbox's directory a paused sandbox is
// resumed from: its bundle, the template its disk is over, its image.
var imageFiles = []string{filepath.Join("bundle", "config.json"), disk.LowerName, "pause"}

// storeImage stores the pause image of sb, paused at pausedAt, in the
// object store, and records it; a resume meanwhile makes it moot.
func (m *Manager) storeImage(ctx context.Context, sb *Sandbox) {
	key := fmt.Sprintf("sandboxes/%s/%d", sb.ID, sb.PausedAt.UnixNano())
	paths := imageFiles
	if _, err := os.Stat(filepath.Join(m.dir(sb.ID), disk.LowerName)); err != nil {
		paths = []string{imageFiles[0], imageFiles[2]} // an ephemeral disk
	}
	start := m.now()
	size, err := m.images.PutDir(ctx, key, m.dir(sb.ID), paths)
	if err != nil {
		m.log.Warn("storing a pause image in the object store; the sandbox resumes only on this node", "sandbox", sb.ID, "err", err)
		return
	}
	ok, err := m.moves.SetImage(ctx, sb.ID, key, sb.PausedAt)
	if err != nil || !ok {
		_ = m.images.Remove(ctx, key) // resumed meanwhile
		return
	}
	m.log.Info("stored the pause image in the object store", "sandbox", sb.ID, "bytes", size, "took", m.now().Sub(start))
}

// forgetImage removes a stored image that is no longer the sandbox's.
func (m *Manager) forgetImage(ctx context.Context, key string) {
	if m.images == nil || key == "" {
		return
	}
	m.wg.Go(func() {
		if err := m.images.Remove(context.WithoutCancel(ctx), key); err != nil {
			m.log.Warn("removing an old pause image from the object store", "key", key, "err", err)
		}
	})
}

// Move brings a paused sandbox that another node ran onto this one, from
// its image in the object store, and resumes it here, at a new address;
// its name, URLs and SSH stay. It is how a sandbox leaves a drained or
// lost node.
func (m *Manager) Move(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	ctx = context.WithoutCancel(ctx)
	sb, err := m.Get(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	if sb.Node == m.cfg.Node {
		return m.Boot(ctx, teamID, ref)
	}
	unlock := m.lock(sb.ID)
	defer unlock()
	if sb, err = m.store.GetSandbox(ctx, sb.ID); err != nil {
		return nil, err
	}
	if err := m.movable(sb); err != nil {
		return nil, err
	}
	from := sb.Node
	if err := m.fetchImage(ctx, sb); err != nil {
		return nil, err
	}
	if err := m.claim(ctx, sb, from); err != nil {
		_ = os.RemoveAll(m.dir(sb.ID))
		return nil, err
	}
	err = m.timed(OpResume, func() error { return m.resume(ctx, sb, "moved from node "+from) })
	return sb, err
}

// movable says why sb cannot move here, or nil.
func (m *Manager) movable(sb *Sandbox) error {
	switch {
	case m.images == nil:
		return fmt.Errorf("%w: sandbox %s runs on node %s, and this server keeps no images in an object store (--object-store)", errdefs.ErrUnavailable, sb.ID, sb.Node)
	case sb.State != Paused:
		return fmt.Errorf("%w: sandbox %s is %s on node %s; only a paused sandbox moves", errdefs.ErrConflict, sb.ID, sb.State, sb.Node)
	case sb.Image == "":
		return fmt.Errorf("%w: sandbox %s has no image in the object store yet (node %s stores it after a pause); retry in a moment", errdefs.ErrUnavailable, sb.ID, sb.Node)
	}
	return nil
}

// fetchImage puts the stored image of sb into its directory here.
func (m *Manager) fetchImage(ctx context.Context, sb *Sandbox) error {
	dir := m.dir(sb.ID)
	tmp := dir + ".fetch"
	_ = os.RemoveAll(tmp)
	if err := m.images.GetDir(ctx, sb.Image, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if lower, err := os.ReadFile(filepath.Join(tmp, disk.LowerName)); err == nil {
		if _, err := os.Stat(strings.TrimSpace(string(lower))); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("%w: sandbox %s is over template files this node does not have (%s); build the template here", errdefs.ErrUnavailable, sb.ID, strings.TrimSpace(string(lower)))
		}
	}
	_ = os.RemoveAll(dir) // what an earlier stay here left
	return os.Rename(tmp, dir)
}

// claim records sb as this node's, at a new address here.
func (m *Manager) claim(ctx context.Context, sb *Sandbox, from string) error {
	m.createMu.Lock()
	defer m.createMu.Unlock()
	used, err := m.store.LiveIPs(ctx, m.cfg.Node)
	if err != nil {
		return err
	}
	ip, err := m.net.Allocate(used)
	if err != nil {
		return fmt.Errorf("allocating an address: %w", err)
	}
	ok, err := m.moves.MoveSandbox(ctx, sb.ID, from, m.cfg.Node, ip.String())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: sandbox %s changed while it was being moved; see its state", errdefs.ErrConflict, sb.ID)
	}
	moved, err := m.store.GetSandbox(ctx, sb.ID)
	if err != nil {
		return errors.Join(err, fmt.Errorf("reading the moved sandbox"))
	}
	*sb = *moved
	return nil
}

// Release removes what this node keeps of a sandbox another node now
// runs (after a move away), under its lock.
func (m *Manager) Release(ctx context.Context, id string) error {
	unlock := m.lock(id)
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil {
		return err
	}
	if sb.Node == m.cfg.Node {
		return fmt.Errorf("%w: sandbox %s still runs on this node", errdefs.ErrConflict, id)
	}
	m.unwatch(id)
	err = m.cleanup(ctx, id)
	m.forget(id)
	return err
}

// WaitStored waits until the image of a sandbox paused here is in the
// object store, and returns the record.
func (m *Manager) WaitStored(ctx context.Context, id string) (*Sandbox, error) {
	for {
		sb, err := m.store.GetSandbox(ctx, id)
		if err != nil || sb.Image != "" || sb.State != Paused {
			return sb, err
		}
		select {
		case <-ctx.Done():
			return sb, fmt.Errorf("%w: the image of sandbox %s is not stored yet: %v", errdefs.ErrUnavailable, id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
