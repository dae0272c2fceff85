package sandbox

// Disks: where a sandbox's files live. A durable disk is an image on the
// host (see the Disks interface) that outlives a crash and a stop; an
// ephemeral one is gVisor's own overlay in the sandbox's memory, faster
// and gone with its process.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/runtools/runtools/internal/disk"
	"github.com/runtools/runtools/internal/errdefs"
)

// Disk kinds.
const (
	DiskDurable   = "durable"
	DiskEphemeral = "ephemeral"
)

// SetDisks lets the manager give sandboxes durable disks, the default.
// Without it every sandbox's disk is ephemeral.
func (m *Manager) SetDisks(d Disks) { m.disks = d }

// diskKind checks the kind of disk asked for, "" for the default.
func (m *Manager) diskKind(kind string) (string, error) {
	switch kind {
	case "":
		if m.disks != nil {
			return DiskDurable, nil
		}
		return DiskEphemeral, nil
	case DiskEphemeral:
		return kind, nil
	case DiskDurable:
		if m.disks == nil {
			return "", fmt.Errorf("%w: this server has no durable disks (it runs without loop devices or mkfs.ext4); use --disk ephemeral", errdefs.ErrUnavailable)
		}
		return kind, nil
	}
	return "", fmt.Errorf("%w: disk %q: want %s or %s", errdefs.ErrInvalidArgument, kind, DiskDurable, DiskEphemeral)
}

func (sb *Sandbox) durable() bool { return sb.Disk == DiskDurable }

// mountDisk makes spec start sb on its durable disk, mounted first; a
// disk image in the image dir img (a rollback's or a fork's; "" for none)
// replaces the disk before. An ephemeral sandbox's spec is left as it is.
func (m *Manager) mountDisk(sb *Sandbox, spec *RunSpec, img string) error {
	if !sb.durable() {
		return nil
	}
	if m.disks == nil {
		return fmt.Errorf("%w: sandbox %s has a durable disk, and this server runs without them", errdefs.ErrUnavailable, sb.ID)
	}
	next := ""
	if img != "" {
		next = filepath.Join(img, diskImageName)
	}
	root, err := m.disks.Mount(m.dir(sb.ID), next)
	if err != nil {
		return err
	}
	spec.RootFS, spec.OwnDisk = root, true
	return nil
}

// unmountDisk unmounts a stopped sandbox's durable disk, which keeps
// what was written.
func (m *Manager) unmountDisk(sb *Sandbox) error {
	if !sb.durable() || m.disks == nil {
		return nil
	}
	return m.disks.Unmount(m.dir(sb.ID))
}

// saveDisk copies the durable disk of sb, which must not be writing to
// it, into the image being written in dir.
func (m *Manager) saveDisk(sb *Sandbox, dir string) error {
	if !sb.durable() {
		return nil
	}
	if _, err := m.disks.Save(m.dir(sb.ID), filepath.Join(dir, diskImageName)); err != nil {
		return fmt.Errorf("copying the sandbox's disk: %w", err)
	}
	return nil
}

// diskUsed is what sb's writable layer takes: its durable disk's use, or
// what the runtime measures of an ephemeral one.
func (m *Manager) diskUsed(sb *Sandbox, meter UsageMeter) (int64, error) {
	if sb.durable() && m.disks != nil {
		return m.disks.Used(m.dir(sb.ID))
	}
	return meter.Disk(sb.ID)
}

// removeDir removes a sandbox's directory, its disk unmounted first.
func (m *Manager) removeDir(id string) error {
	if m.disks != nil {
		return m.disks.Remove(m.dir(id))
	}
	return os.RemoveAll(m.dir(id))
}

// snapshotRunning takes the image of a running sandbox into tmp: its
// memory, and its durable disk at the same instant (the sandbox is frozen
// while the disk is copied).
func (m *Manager) snapshotRunning(ctx context.Context, sb *Sandbox, cp Checkpointer, tmp string) error {
	if !sb.durable() {
		return cp.Checkpoint(ctx, sb.ID, tmp, true)
	}
	fr, ok := m.rt.(Freezer)
	if !ok {
		return fmt.Errorf("%w: this runtime cannot freeze a sandbox to copy its disk", errdefs.ErrUnavailable)
	}
	if err := fr.Freeze(ctx, sb.ID); err != nil {
		return err
	}
	err := cp.Checkpoint(ctx, sb.ID, tmp, true)
	if err == nil {
		err = m.saveDisk(sb, tmp)
	}
	if terr := fr.Thaw(ctx, sb.ID); terr != nil && err == nil {
		err = terr
	}
	return err
}

// ErrEphemeral says a sandbox's disk is not durable.
var ErrEphemeral = errors.New("the sandbox's disk is ephemeral")

// ReadWrites snapshots a sandbox with a durable disk and calls fn with
// what it wrote as of the snapshot (its overlay's upper directory, on the
// snapshot's copy of its disk, mounted read-only) and the template root
// filesystem that is over. The snapshot goes after. A sandbox whose disk
// is ephemeral gives ErrEphemeral.
func (m *Manager) ReadWrites(ctx context.Context, teamID, ref string, fn func(upper, lower string) error) error {
	sb, err := m.find(ctx, teamID, ref)
	if err != nil {
		return err
	}
	if !sb.durable() || m.disks == nil {
		return ErrEphemeral
	}
	ctx = context.WithoutCancel(ctx)
	sn, err := m.Snapshot(ctx, teamID, sb.ID, saveSnapshotPrefix+randomString(8))
	if err != nil {
		return err
	}
	defer func() { _ = m.removeSnapshot(ctx, sn) }()
	dir := m.snapshotDir(sn.ID)
	lower := disk.Lower(m.dir(sb.ID))
	return m.disks.Read(filepath.Join(dir, diskImageName), dir+".mnt", func(upper string) error { return fn(upper, lower) })
}
