package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/hostfs"
)

// Recover reconciles records with what really exists, after a restart or
// a crash of the daemon: running sandboxes are adopted again, interrupted
// operations are finished, and anything without a live record is removed.
func (m *Manager) Recover(ctx context.Context) error {
	live, err := m.own(ctx)
	if err != nil {
		return fmt.Errorf("listing sandbox records: %w", err)
	}
	rebooted := m.hostRestarted()
	if err := m.recoverVolumes(ctx); err != nil {
		m.log.Error("recovering volumes", "err", err)
	}
	keep := map[string]bool{}
	for _, sb := range live {
		if m.recoverOne(ctx, sb, rebooted) {
			keep[sb.ID] = true
		}
	}
	orphans, err := m.orphans(ctx, keep)
	if err != nil {
		return err
	}
	for _, id := range orphans {
		m.log.Warn("removing orphaned sandbox resources", "sandbox", id)
		if err := m.cleanup(ctx, id); err != nil {
			m.log.Error("removing orphan", "sandbox", id, "err", err)
		}
	}
	if err := m.recoverSnapshots(ctx); err != nil {
		return fmt.Errorf("recovering snapshots: %w", err)
	}
	m.log.Info("recovered sandboxes", "adopted", len(keep), "orphans_removed", len(orphans))
	return nil
}

// recoverOne settles one record not destroyed and reports whether it
// is kept.
func (m *Manager) recoverOne(ctx context.Context, sb *Sandbox, rebooted bool) bool {
	log := m.log.With("sandbox", sb.ID, "state", sb.State)
	m.settleImages(sb.ID)
	var reason string
	switch sb.State {
	case Creating:
		reason = ReasonInterrupted + ": the daemon restarted while creating it"
	case Stopping:
		reason = ReasonDestroyed
		if sb.StopReason == ReasonTimeout || sb.StopReason == ReasonPausedTTL {
			reason = sb.StopReason // a lifetime's destroy
		}
		if err := m.removeSnapshotsOf(ctx, sb.ID); err != nil {
			log.Error("removing the snapshots of a destroyed sandbox", "err", err)
		}
	case Running:
		if fr, ok := m.rt.(Freezer); ok {
			_ = fr.Thaw(ctx, sb.ID) // frozen for a snapshot when the daemon died
		}
		if m.alive(ctx, sb) {
			m.watch(sb.ID)
			log.Info("adopted running sandbox")
			return true
		}
		why := ReasonCrashed + ": it was not running when the daemon restarted"
		if rebooted {
			why = ReasonHostRestart
		}
		if err := m.halt(ctx, sb, why); err != nil {
			log.Error("recording recovery", "err", err)
		}
		return true
	case Pausing:
		return m.recoverPause(ctx, sb)
	case Resuming:
		return m.recoverResume(ctx, sb)
	case Paused:
		if !sealed(m.pauseImage(sb.ID)) {
			m.fail(ctx, sb, ReasonLost+": its pause image is missing")
		}
		return true
	case Error, Stopped:
		if m.backFromLost(ctx, sb) {
			return true
		}
		// Nothing of it runs; a start the daemon's end interrupted may
		// have begun to.
		_ = m.rt.Destroy(ctx, sb.ID)
		_ = m.net.Teardown(ctx, sb.ID)
		_ = m.unmountDisk(sb)
		return true
	default:
		return true
	}
	if err := m.cleanup(ctx, sb.ID); err != nil {
		log.Error("cleaning up during recovery", "err", err)
	}
	if err := m.markGone(ctx, sb, Destroyed, reason); err != nil {
		log.Error("recording recovery", "err", err)
	}
	log.Info("settled sandbox after restart", "reason", reason)
	return false
}

// backFromLost adopts again a sandbox recorded as failed because this
// node was taken for lost, if it still runs: the node was cut off, or
// restarted, but the sandbox went on.
func (m *Manager) backFromLost(ctx context.Context, sb *Sandbox) bool {
	if sb.State != Error || !strings.HasPrefix(sb.StopReason, ReasonNodeLost) || !m.alive(ctx, sb) {
		return false
	}
	sb.State, sb.StopReason, sb.StoppedAt, sb.Why = Running, "", time.Time{}, "its node is back and it still runs"
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		m.log.Error("adopting a sandbox back from a lost node", "sandbox", sb.ID, "err", err)
		return false
	}
	m.watch(sb.ID)
	m.log.Info("adopted a sandbox its lost node ran on", "sandbox", sb.ID)
	return true
}

// AdoptBack adopts again, after this node was taken for lost and came
// back, the sandboxes recorded as failed meanwhile that still run.
func (m *Manager) AdoptBack(ctx context.Context) {
	list, err := m.own(ctx)
	if err != nil {
		m.log.Warn("listing sandboxes to adopt back", "err", err)
		return
	}
	for _, sb := range list {
		if sb.State != Error {
			continue
		}
		unlock := m.lock(sb.ID)
		if cur, err := m.store.GetSandbox(ctx, sb.ID); err == nil {
			m.backFromLost(ctx, cur)
		}
		unlock()
	}
}

// alive reports whether the sandbox runs and its agent answers. A sandbox
// that was being given a new token answers to one of the two; the record
// is settled to the one that works, and a pending renewal is finished.
func (m *Manager) alive(ctx context.Context, sb *Sandbox) bool {
	ok, err := m.rt.Running(ctx, sb.ID)
	if err != nil || !ok {
		return false
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if m.agentFor(sb).WaitReady(hctx, 20*time.Millisecond) == nil {
		if err := m.renewToken(ctx, sb); err != nil {
			m.log.Warn("renewing a token after restart", "sandbox", sb.ID, "err", err)
		}
		return true
	}
	if sb.NextSecret == "" {
		return false
	}
	m.dropAgent(sb.ID)
	sb.Secret, sb.NextSecret = sb.NextSecret, ""
	if m.agentFor(sb).WaitReady(hctx, 20*time.Millisecond) != nil {
		return false
	}
	return m.store.UpdateSandbox(ctx, sb) == nil
}

// settleImages finishes or undoes a swap of the pause image that a crash
// interrupted (see Rollback), and removes half-written images.
func (m *Manager) settleImages(id string) {
	img := m.pauseImage(id)
	if !dirExists(img) && dirExists(img+".old") {
		_ = os.Rename(img+".old", img)
	}
	for _, leftover := range []string{img + ".old", img + ".new", img + ".new.tmp"} {
		_ = os.RemoveAll(leftover)
	}
}

// recoverSnapshots removes snapshots that were being taken when the daemon
// stopped, and snapshot images that have no record.
func (m *Manager) recoverSnapshots(ctx context.Context) error {
	all, err := m.store.Snapshots(ctx, "")
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, sn := range all {
		if !sn.Ready && !m.othersSnapshot(ctx, sn) {
			m.log.Warn("removing a snapshot interrupted by a restart", "sandbox", sn.SandboxID, "snapshot", sn.Name)
			if err := m.removeSnapshot(ctx, sn); err != nil {
				return err
			}
			continue
		}
		known[sn.ID] = true
	}
	entries, err := os.ReadDir(m.cfg.SnapshotDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !known[e.Name()] {
			p := filepath.Join(m.cfg.SnapshotDir, e.Name())
			_ = hostfs.UnmountUnder(p) // a save's read of a disk copy
			_ = os.RemoveAll(p)
		}
	}
	return nil
}

// othersSnapshot reports whether sn is of a sandbox another node of the
// cluster runs: that node may be taking it.
func (m *Manager) othersSnapshot(ctx context.Context, sn *Snapshot) bool {
	sb, err := m.store.GetSandbox(ctx, sn.SandboxID)
	return err == nil && sb.Node != m.cfg.Node
}

// orphans lists IDs that have runtime state, a network or a directory but
// no live record.
func (m *Manager) orphans(ctx context.Context, keep map[string]bool) ([]string, error) {
	seen := map[string]bool{}
	rtIDs, err := m.rt.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing runtime sandboxes: %w", err)
	}
	netIDs, err := m.net.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing sandbox networks: %w", err)
	}
	entries, err := os.ReadDir(m.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("listing sandbox directories: %w", err)
	}
	var out []string
	add := func(id string) {
		if !keep[id] && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range rtIDs {
		add(id)
	}
	for _, id := range netIDs {
		add(id)
	}
	for _, e := range entries {
		if IsID(e.Name()) {
			add(e.Name())
		}
	}
	return out, nil
}

// recoverPause settles a pause the daemon did not finish: the sandbox is
// either still running, or saved (sealed or not yet sealed) and stopped.
func (m *Manager) recoverPause(ctx context.Context, sb *Sandbox) bool {
	img := m.pauseImage(sb.ID)
	tmp := img + ".tmp"
	switch {
	case sealed(img):
		_ = m.rt.Destroy(ctx, sb.ID)
		m.markPaused(sb, "pause finished after a daemon restart")
	case m.alive(ctx, sb):
		_ = os.RemoveAll(tmp)
		sb.State, sb.Why = Running, "pause interrupted by a daemon restart"
		m.watch(sb.ID)
	case dirExists(tmp):
		// Saved and stopped, not sealed: runsc stops a sandbox only after
		// a whole save, so seal what it wrote.
		_ = m.rt.Destroy(ctx, sb.ID)
		if _, err := sealImage(tmp, img); err != nil {
			m.fail(ctx, sb, ReasonLost+": sealing its pause image after a restart: "+err.Error())
			return true
		}
		m.markPaused(sb, "pause finished after a daemon restart")
	default:
		m.fail(ctx, sb, ReasonLost+": it stopped during a pause and left no image")
		return true
	}
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		m.log.Error("recording recovery", "sandbox", sb.ID, "err", err)
	}
	return true
}

// recoverResume settles a resume the daemon did not finish.
func (m *Manager) recoverResume(ctx context.Context, sb *Sandbox) bool {
	if m.alive(ctx, sb) {
		sb.State, sb.Why = Running, "resume finished after a daemon restart"
		_ = os.RemoveAll(m.pauseImage(sb.ID))
		m.watch(sb.ID)
	} else {
		_ = m.rt.Destroy(ctx, sb.ID)
		m.markPaused(sb, "resume interrupted by a daemon restart")
	}
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		m.log.Error("recording recovery", "sandbox", sb.ID, "err", err)
	}
	return true
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// hostRestarted reports whether the host booted since the daemon last
// recovered, and records this boot.
func (m *Manager) hostRestarted() bool {
	now, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return false
	}
	path := filepath.Join(filepath.Dir(m.cfg.Dir), "boot-id")
	before, err := os.ReadFile(path)
	if string(before) != string(now) {
		_ = atomicfile.WriteFile(path, now, 0o600)
	}
	return err == nil && string(before) != string(now)
}
