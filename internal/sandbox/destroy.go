package sandbox

import (
	"context"
	"errors"
	"fmt"
)

// Destroy stops a sandbox and removes every trace of it but its record:
// its disk and snapshots too. Destroying a destroyed sandbox is a no-op.
func (m *Manager) Destroy(ctx context.Context, teamID, ref string) (_ *Sandbox, err error) {
	defer m.observe(OpDestroy, m.now(), &err)
	sb, err := m.find(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	return m.destroy(ctx, sb.ID, ReasonDestroyed, nil)
}

// destroy destroys sandbox id, recording reason. With still, it does so
// only if still says so of the record read under the sandbox's lock (a
// lifetime that may have been extended meanwhile).
func (m *Manager) destroy(ctx context.Context, id, reason string, still func(*Sandbox) bool) (_ *Sandbox, err error) {
	ctx = context.WithoutCancel(ctx)
	unlock := m.lock(id)
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil {
		return nil, err
	}
	if sb.State == Destroyed {
		m.forget(sb.ID) // the lock just taken made an entry
		return sb, nil
	}
	if still != nil && !still(sb) {
		return sb, nil
	}
	// The reason goes with stopping, so a restart that finishes the
	// destroy records it.
	sb.State, sb.StopReason = Stopping, reason
	if reason != ReasonDestroyed {
		sb.Why = reason
	}
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, fmt.Errorf("recording sandbox as stopping: %w", err)
	}
	m.unwatch(sb.ID)
	if err := m.cleanup(ctx, sb.ID); err != nil {
		return nil, fmt.Errorf("destroying sandbox %s (it stays in state stopping and is cleaned up at the next daemon start): %w", sb.ID, err)
	}
	if err := m.removeSnapshotsOf(ctx, sb.ID); err != nil {
		return nil, err
	}
	if err := m.markGone(ctx, sb, Destroyed, reason); err != nil {
		return nil, fmt.Errorf("recording sandbox as destroyed: %w", err)
	}
	m.forget(sb.ID)
	m.forgetImage(ctx, sb.Image)
	m.log.Info("sandbox destroyed", "sandbox", sb.ID, "reason", reason)
	return sb, nil
}

// cleanup removes the runtime state, network and files of a sandbox. Each
// step tolerates what is already gone, so it is safe to repeat.
func (m *Manager) cleanup(ctx context.Context, id string) error {
	m.dropAgent(id)
	var errs []error
	if err := m.rt.Destroy(ctx, id); err != nil {
		errs = append(errs, fmt.Errorf("runtime: %w", err))
	}
	if err := m.net.Teardown(ctx, id); err != nil {
		errs = append(errs, fmt.Errorf("network: %w", err))
	}
	if err := m.removeDir(id); err != nil {
		errs = append(errs, fmt.Errorf("files: %w", err))
	}
	return errors.Join(errs...)
}

// removeSnapshotsOf frees the disk of every snapshot of a sandbox.
func (m *Manager) removeSnapshotsOf(ctx context.Context, id string) error {
	snaps, err := m.store.Snapshots(ctx, id)
	if err != nil {
		return err
	}
	for _, sn := range snaps {
		if err := m.removeSnapshot(ctx, sn); err != nil {
			return fmt.Errorf("removing snapshot %s of %s: %w", sn.Name, id, err)
		}
	}
	return nil
}
