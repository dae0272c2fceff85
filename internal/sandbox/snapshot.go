package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/runtools/runtools/internal/errdefs"
)

var snapNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)

func (m *Manager) snapshotDir(id string) string { return filepath.Join(m.cfg.SnapshotDir, id) }

// Snapshot saves a sandbox's memory and disk under a name ("" picks one)
// without stopping it for longer than the save itself. A paused sandbox's
// image is linked, not copied.
func (m *Manager) Snapshot(ctx context.Context, teamID, ref, name string) (_ *Snapshot, err error) {
	defer m.observe(OpSnapshot, m.now(), &err)
	if name != "" && !snapNamePattern.MatchString(name) {
		return nil, fmt.Errorf("%w: snapshot name %q must be 1-63 letters, digits, dots, dashes or underscores", errdefs.ErrInvalidArgument, name)
	}
	sb, done, err := m.exclusive(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer done()
	ctx = context.WithoutCancel(ctx)
	if sb.State != Running && sb.State != Paused {
		return nil, notRunning(sb)
	}
	if name == "" {
		name = m.now().UTC().Format("20060102-150405.000")
	}
	sn := &Snapshot{ID: NewSnapshotID(), SandboxID: sb.ID, TeamID: sb.TeamID, Name: name, Secret: sb.Secret, CreatedAt: m.now().UTC()}
	if err := m.store.InsertSnapshot(ctx, sn); err != nil {
		return nil, err
	}
	dir := m.snapshotDir(sn.ID)
	tmp := dir + ".tmp"
	fail := func(err error) (*Snapshot, error) {
		_ = os.RemoveAll(tmp)
		_ = os.RemoveAll(dir)
		_ = m.store.DeleteSnapshot(ctx, sn.ID)
		if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device") {
			return nil, fmt.Errorf("%w: no space left on the server's disk for the snapshot; delete old snapshots (runtools sandbox snapshot-rm) or free disk space: %v", errdefs.ErrResourceExhausted, err)
		}
		return nil, fmt.Errorf("taking snapshot %q of %s: %w", name, sb.ID, err)
	}
	start := m.now()
	if sb.State == Paused {
		var add func(string) error
		if sb.durable() {
			add = func(tmp string) error {
				if err := m.saveDisk(sb, tmp); err != nil {
					return err
				}
				return addDisk(tmp)
			}
		}
		if err := linkImage(m.pauseImage(sb.ID), dir, add); err != nil {
			return fail(err)
		}
	} else {
		cp, err := m.checkpointer()
		if err != nil {
			return fail(err)
		}
		m.quiesce(sb)
		if err := m.snapshotRunning(ctx, sb, cp, tmp); err != nil {
			return fail(err)
		}
		if _, err := sealImage(tmp, dir); err != nil {
			return fail(err)
		}
	}
	sn.Ready, sn.Size = true, dirSize(dir)
	if err := m.store.UpdateSnapshot(ctx, sn); err != nil {
		return fail(err)
	}
	m.log.Info("snapshot taken", "sandbox", sb.ID, "snapshot", sn.Name, "bytes", sn.Size, "took", m.now().Sub(start))
	return sn, nil
}

// Snapshots lists a team's sandbox's snapshots, oldest first.
func (m *Manager) Snapshots(ctx context.Context, teamID, ref string) ([]*Snapshot, error) {
	sb, err := m.find(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	return m.readySnapshots(ctx, sb.ID)
}

func (m *Manager) readySnapshots(ctx context.Context, id string) ([]*Snapshot, error) {
	all, err := m.store.Snapshots(ctx, id)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sn := range all {
		if sn.Ready {
			out = append(out, sn)
		}
	}
	return out, nil
}

// findSnapshot returns the snapshot named (by name or ID), or the latest.
func (m *Manager) findSnapshot(ctx context.Context, sb *Sandbox, ref string) (*Snapshot, error) {
	list, err := m.readySnapshots(ctx, sb.ID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: sandbox %s has no snapshots; take one with `runtools sandbox snapshot`", errdefs.ErrNotFound, sb.ID)
	}
	if ref == "" {
		return list[len(list)-1], nil
	}
	for _, sn := range list {
		if sn.Name == ref || sn.ID == ref {
			return sn, nil
		}
	}
	return nil, fmt.Errorf("%w: sandbox %s has no snapshot %q; see `runtools sandbox snapshots %s`", errdefs.ErrNotFound, sb.ID, ref, sb.ID)
}

// DeleteSnapshot removes a snapshot and its image.
func (m *Manager) DeleteSnapshot(ctx context.Context, teamID, ref, snap string) error {
	sb, err := m.find(ctx, teamID, ref)
	if err != nil {
		return err
	}
	if snap == "" {
		return fmt.Errorf("%w: name the snapshot to delete", errdefs.ErrInvalidArgument)
	}
	unlock := m.lock(sb.ID)
	defer unlock()
	sn, err := m.findSnapshot(ctx, sb, snap)
	if err != nil {
		return err
	}
	return m.removeSnapshot(ctx, sn)
}

func (m *Manager) removeSnapshot(ctx context.Context, sn *Snapshot) error {
	// The record goes first: a crash in between leaves only a directory
	// without a record, which recovery removes.
	if err := m.store.DeleteSnapshot(ctx, sn.ID); err != nil {
		return err
	}
	return os.RemoveAll(m.snapshotDir(sn.ID))
}

// Rollback returns a sandbox to a snapshot (the latest if snap is ""): the
// snapshot becomes the sandbox's saved state, which is then resumed; a
// stopped sandbox runs again. A crash at any point leaves it as it was or
// rolled back (possibly paused).
func (m *Manager) Rollback(ctx context.Context, teamID, ref, snap string) (_ *Sandbox, err error) {
	defer m.observe(OpRollback, m.now(), &err)
	sb, done, err := m.exclusive(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer done()
	ctx = context.WithoutCancel(ctx)
	if sb.State != Running && sb.State != Paused && sb.State != Stopped { // a crashed one too
		return nil, notRunning(sb)
	}
	sn, err := m.findSnapshot(ctx, sb, snap)
	if err != nil {
		return nil, err
	}
	if err := verifyImage(m.snapshotDir(sn.ID)); err != nil {
		return nil, fmt.Errorf("%w: snapshot %q is damaged: %v", errdefs.ErrConflict, sn.Name, err)
	}
	why := "rolled back to snapshot " + sn.Name
	// 1. The snapshot becomes the saved state, replacing a pause image by
	// renames that recovery can finish or undo.
	img := m.pauseImage(sb.ID)
	_ = os.RemoveAll(img + ".new")
	if err := linkImage(m.snapshotDir(sn.ID), img+".new", nil); err != nil {
		return nil, fmt.Errorf("preparing the rollback: %w", err)
	}
	_ = os.RemoveAll(img + ".old")
	if err := renameIfExists(img, img+".old"); err != nil {
		return nil, err
	}
	if err := os.Rename(img+".new", img); err != nil {
		return nil, fmt.Errorf("preparing the rollback: %w", err)
	}
	// 2. Record it: from here the sandbox is rolled back, paused.
	m.unwatch(sb.ID)
	m.markPaused(sb, why)
	sb.Secret, sb.NextSecret = sn.Secret, NewSecret()
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, fmt.Errorf("recording the rollback: %w", err)
	}
	_ = os.RemoveAll(img + ".old")
	// 3. Resume it; resume stops what still runs and renews the token.
	if err := m.resume(ctx, sb, why); err != nil {
		return sb, err
	}
	return sb, nil
}

// dirSize is what the files in dir take on disk (a sparse disk image
// only its data).
func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += min(fi.Size(), st.Blocks*512)
				continue
			}
			n += fi.Size()
		}
	}
	return n
}
