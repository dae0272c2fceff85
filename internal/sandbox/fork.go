package sandbox

// Forks: a new sandbox from a snapshot of another, with its own identity.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/disk"
	"github.com/runtools/runtools/internal/errdefs"
)

// Fork makes a new sandbox from a snapshot of ref (snap names it; "" takes
// a fresh one, removed again after). The fork gets a new ID, address and
// agent token; any number of forks of one snapshot run side by side.
func (m *Manager) Fork(ctx context.Context, teamID, ref, snap, name string) (*Sandbox, error) {
	return m.fork(ctx, teamID, ref, snap, name, nil)
}

// ForkAs forks a sandbox's current state like Fork, with the fork's own
// metadata (the daemon marks the forks it makes for itself, such as a
// sandbox being saved as a template, so that it can clean them up).
func (m *Manager) ForkAs(ctx context.Context, teamID, ref string, metadata map[string]string) (*Sandbox, error) {
	return m.fork(ctx, teamID, ref, "", "", metadata)
}

// fork forks with metadata, or with the parent's when it is nil.
func (m *Manager) fork(ctx context.Context, teamID, ref, snap, name string, metadata map[string]string) (_ *Sandbox, retErr error) {
	defer m.observe(OpFork, m.now(), &retErr)
	if name != "" {
		if err := ValidateName(name); err != nil {
			return nil, err
		}
	}
	parent, err := m.find(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	id, metadata, release, err := m.forkPlace(ctx, parent, metadata)
	if err != nil {
		return nil, err
	}
	defer release()
	var sn *Snapshot
	if snap == "" {
		if sn, err = m.Snapshot(ctx, teamID, parent.ID, forkSnapshotPrefix+randomString(8)); err != nil {
			return nil, err
		}
		defer func() { _ = m.removeSnapshot(ctx, sn) }()
	} else if sn, err = m.findSnapshot(ctx, parent, snap); err != nil {
		return nil, err
	}
	if err := verifyImage(m.snapshotDir(sn.ID)); err != nil {
		return nil, fmt.Errorf("%w: snapshot %q is damaged: %v", errdefs.ErrConflict, sn.Name, err)
	}
	sb := &Sandbox{
		ID: id, TeamID: teamID, Name: name, Template: parent.Template, State: Creating,
		VCPUs: parent.VCPUs, MemoryMB: parent.MemoryMB, DiskMB: parent.DiskMB,
		Secret: sn.Secret, NextSecret: NewSecret(), Env: parent.Env, Metadata: metadata,
		IdleTimeout: parent.IdleTimeout, CreatedAt: m.now().UTC(),
		Public: parent.Public, Ports: slices.Clone(parent.Ports), AccessToken: NewSecret(),
		PasswordHash: parent.PasswordHash, Desktop: parent.Desktop, Egress: parent.Egress,
		Disk: parent.Disk, AutoStart: parent.AutoStart, Labels: maps.Clone(parent.Labels),
		Volumes: slices.Clone(parent.Volumes), // the same volumes, shared
		Why:     fmt.Sprintf("fork of %s from snapshot %s", parent.ID, sn.Name),
	}
	log := m.log.With("sandbox", sb.ID, "parent", parent.ID)
	unlock := m.lock(sb.ID)
	defer unlock()
	if err := m.insert(ctx, sb); err != nil {
		return nil, err
	}
	var u undo
	defer u.run(ctx, log)
	u.add("mark record failed", func(ctx context.Context) error {
		reason := ReasonCreateFail
		if retErr != nil {
			reason += ": " + retErr.Error()
		}
		return m.markGone(ctx, sb, Destroyed, reason)
	})
	u.add("clean up", func(ctx context.Context) error { return m.cleanup(ctx, sb.ID) })
	if err := os.MkdirAll(filepath.Join(m.dir(sb.ID), "bundle"), 0o700); err != nil {
		return nil, fmt.Errorf("creating sandbox directory: %w", err)
	}
	if err := m.copyParentFiles(parent.ID, sb.ID); err != nil {
		return nil, err
	}
	if err := linkImage(m.snapshotDir(sn.ID), m.pauseImage(sb.ID), nil); err != nil {
		return nil, fmt.Errorf("preparing the fork's image: %w", err)
	}
	m.markPaused(sb, sb.Why)
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, err
	}
	if err := m.resume(ctx, sb, "forked"); err != nil {
		return nil, err
	}
	u.release()
	sb.StartedAt = m.now().UTC()
	_ = m.store.UpdateSandbox(ctx, sb)
	log.Info("sandbox forked", "snapshot", sn.Name, "ip", sb.IP)
	return sb, nil
}

// forkPlace picks a fork's ID and metadata (the parent's when nil) and
// holds its place in the team's quota until release is called.
func (m *Manager) forkPlace(ctx context.Context, parent *Sandbox, metadata map[string]string) (string, map[string]string, func(), error) {
	if metadata == nil {
		metadata = parent.Metadata
	}
	id := NewID()
	release, err := m.reserve(ctx, &Sandbox{ID: id, TeamID: parent.TeamID, VCPUs: parent.VCPUs, MemoryMB: parent.MemoryMB, Metadata: metadata})
	return id, metadata, release, err
}

// copyParentFiles gives a fork the files of its parent's directory a
// restore needs: its bundle, and which template its durable disk is over.
func (m *Manager) copyParentFiles(parent, fork string) error {
	for _, f := range []string{filepath.Join("bundle", "config.json"), disk.LowerName} {
		from := filepath.Join(m.dir(parent), f)
		if _, err := os.Stat(from); f == disk.LowerName && err != nil {
			continue // an ephemeral disk's parent
		}
		if err := copyFile(from, filepath.Join(m.dir(fork), f)); err != nil {
			return fmt.Errorf("copying the parent's %s: %w", f, err)
		}
	}
	return nil
}

// renewToken gives a restored agent a new token when the sandbox has one
// pending (after a rollback or fork): the pending one is recorded first,
// so after a crash either token may be live and recovery tries both.
func (m *Manager) renewToken(ctx context.Context, sb *Sandbox) error {
	if sb.NextSecret == "" {
		return nil
	}
	seed := make([]byte, 64)
	_, _ = rand.Read(seed)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.agentFor(sb).SetToken(tctx, sb.NextSecret, seed); err != nil {
		return fmt.Errorf("giving the agent a new token: %w", err)
	}
	m.dropAgent(sb.ID)
	sb.Secret, sb.NextSecret = sb.NextSecret, ""
	return m.store.UpdateSandbox(ctx, sb)
}

// linkImage makes dst a sealed image with the same files as the sealed
// image src, by hard links (images are never written after sealing), or
// copies when the two are on different filesystems. A disk image is
// copied (a reflink where the filesystem has them): it becomes a live
// disk, which a link would let write into src. add, if not nil, adds
// files to the image before it is sealed again.
func linkImage(src, dst string, add func(tmp string) error) error {
	if !sealed(src) {
		return fmt.Errorf("image %s is not sealed", src)
	}
	tmp := dst + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	err := linkFiles(src, tmp)
	if err == nil && add != nil {
		err = add(tmp)
	}
	if err == nil {
		err = atomicfile.SyncDir(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(dst))
}

func linkFiles(src, tmp string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(tmp, e.Name())
		if e.Name() == diskImageName {
			if _, err := disk.Copy(to, from); err != nil {
				return fmt.Errorf("copying the disk image: %w", err)
			}
			continue
		}
		err := os.Link(from, to)
		if errors.Is(err, syscall.EXDEV) {
			err = copyFile(from, to) // another filesystem: copy instead
		}
		if err != nil {
			return fmt.Errorf("linking image file: %w", err)
		}
	}
	return nil
}

func renameIfExists(from, to string) error {
	err := os.Rename(from, to)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// copyFile copies src to a new file dst and fsyncs it, streaming.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, cerr := io.Copy(out, in)
	serr := out.Sync()
	return errors.Join(cerr, serr, out.Close())
}
