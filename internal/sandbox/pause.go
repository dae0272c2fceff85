package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// pauseImage is where a paused sandbox's image lives; pauseImage+".tmp"
// while it is being written.
func (m *Manager) pauseImage(id string) string { return filepath.Join(m.dir(id), "pause") }

func (m *Manager) checkpointer() (Checkpointer, error) {
	cp, ok := m.rt.(Checkpointer)
	if !ok {
		return nil, fmt.Errorf("%w: this runtime cannot save sandboxes", errdefs.ErrUnavailable)
	}
	return cp, nil
}

// Pause saves a running sandbox's memory, processes and disk to disk and
// stops it: it then holds no CPU or memory. Pausing a paused sandbox is a
// no-op. Uses that arrive during the pause wait for it, then wake the
// sandbox again.
func (m *Manager) Pause(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	sb, done, err := m.exclusive(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer done()
	ctx = context.WithoutCancel(ctx)
	switch sb.State {
	case Paused:
		return sb, nil
	case Running:
		return sb, m.pause(ctx, sb, "paused on request")
	}
	return sb, notRunning(sb)
}

// Resume restores a paused sandbox. Resuming a running sandbox is a no-op;
// a stopped one is started.
func (m *Manager) Resume(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	return m.Boot(ctx, teamID, ref)
}

// wake resumes a paused sandbox for a use that needs it, or starts a
// stopped one that starts on use; its start command runs meanwhile.
func (m *Manager) wake(ctx context.Context, id string) (*Sandbox, error) {
	ctx = context.WithoutCancel(ctx)
	sb, tpl, err := m.wakeLocked(ctx, id, "woken by use", false)
	if err == nil && tpl != nil {
		m.wg.Go(func() { m.startCommand(ctx, sb, *tpl) })
	}
	return sb, err
}

// wakeLocked resumes a paused sandbox, or starts a stopped one if start or
// it starts on use, under its lock. It returns the template of a sandbox
// it started, whose start command is the caller's to run.
func (m *Manager) wakeLocked(ctx context.Context, id, why string, start bool) (*Sandbox, *Template, error) {
	unlock := m.lock(id)
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case sb.State == Running:
		return sb, nil, nil
	case sb.State == Paused:
		if start {
			why = "resumed on request"
		}
		release, err := m.reserve(ctx, sb)
		if err != nil {
			return sb, nil, err
		}
		defer release()
		return sb, nil, m.timed(OpResume, func() error { return m.resume(ctx, sb, why) })
	case sb.State == Stopped && (start || sb.AutoStart):
		if !start {
			why = "started by use"
		}
		release, err := m.reserve(ctx, sb)
		if err != nil {
			return sb, nil, err
		}
		defer release()
		tpl, err := m.boot(ctx, sb, why)
		if err != nil {
			return sb, nil, err
		}
		return sb, &tpl, nil
	}
	return sb, nil, notRunning(sb)
}

// pause does the work of Pause; the caller holds the sandbox's lock and a
// claim on its activity. Every step is recorded first, so recovery knows
// where a crash happened:
//
//	pausing, no sealed image → the sandbox is running, or was saved and
//	                           stopped (the image in .tmp is whole);
//	pausing, sealed image    → it is saved; only the cleanup is left;
//	paused                   → done.
func (m *Manager) pause(ctx context.Context, sb *Sandbox, why string) (err error) {
	defer m.observe(OpPause, m.now(), &err)
	cp, err := m.checkpointer()
	if err != nil {
		return err
	}
	log := m.log.With("sandbox", sb.ID)
	start := m.now()
	sb.State, sb.Why = Pausing, why
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return fmt.Errorf("recording the pause: %w", err)
	}
	m.unwatch(sb.ID)
	img := m.pauseImage(sb.ID)
	tmp := img + ".tmp"
	_ = os.RemoveAll(tmp)
	_ = os.RemoveAll(img)
	m.quiesce(sb)
	if err := cp.Checkpoint(ctx, sb.ID, tmp, false); err != nil {
		_ = os.RemoveAll(tmp)
		return m.pauseFailed(ctx, sb, fmt.Errorf("saving the sandbox: %w", err))
	}
	size, err := sealImage(tmp, img)
	if err != nil {
		// The sandbox is saved and stopping; bring it back from what was
		// written rather than lose it.
		log.Error("sealing the pause image failed; restoring from it", "err", err)
		return m.pauseFailed(ctx, sb, m.restoreFrom(ctx, sb, tmp, fmt.Errorf("writing the pause image: %w", err)))
	}
	m.dropAgent(sb.ID)
	m.markPaused(sb, why)
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return fmt.Errorf("recording the sandbox as paused: %w", err)
	}
	log.Info("sandbox paused", "why", why, "image_bytes", size, "took", m.now().Sub(start))

	// The sandbox process exits by itself; runsc's state for it is cleared
	// after the caller has its answer, under the sandbox's lock, unless a
	// resume got there first (it clears the state itself).
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		unlock := m.lock(sb.ID)
		defer unlock()
		if cur, err := m.store.GetSandbox(ctx, sb.ID); err == nil && cur.State == Paused {
			if err := m.rt.Destroy(ctx, sb.ID); err != nil {
				log.Warn("cleaning up after pause", "err", err)
			}
			m.storeImage(ctx, cur)
		}
	}()
	return nil
}

// quiesceTime lets the sandbox finish closing the daemon's connections to
// its agent before it is saved.
const quiesceTime = 5 * time.Millisecond

// quiesce closes the daemon's idle connections to the sandbox's agent and
// gives the sandbox a moment to see them closed. gVisor saves TCP
// connections that are open or closing at checkpoint time in a way that can
// leave the restored network stack deaf (seen with runsc 2026-07 and
// 2026-09 builds), so the daemon never leaves its own open across a save.
func (m *Manager) quiesce(sb *Sandbox) {
	m.dropAgent(sb.ID)
	m.mu.Lock()
	hooks := slices.Clone(m.quiesceHooks)
	m.mu.Unlock()
	for _, fn := range hooks {
		fn(sb)
	}
	time.Sleep(quiesceTime)
}

// pauseFailed records how a failed pause left the sandbox: still running
// (the usual case: the save failed and the sandbox went on), or, if it is
// gone, in error.
func (m *Manager) pauseFailed(ctx context.Context, sb *Sandbox, cause error) error {
	if ok, _ := m.rt.Running(ctx, sb.ID); ok {
		sb.State, sb.Why = Running, "pause failed: "+cause.Error()
		if err := m.store.UpdateSandbox(ctx, sb); err != nil {
			return errors.Join(cause, err)
		}
		m.watch(sb.ID)
		return fmt.Errorf("%w: pausing sandbox %s failed; it is still running: %v", errdefs.ErrUnavailable, sb.ID, cause)
	}
	m.fail(ctx, sb, ReasonCrashed+": pause failed: "+cause.Error())
	return fmt.Errorf("pausing sandbox %s failed and it could not be kept running: %w", sb.ID, cause)
}

// restoreFrom tries to bring a sandbox back from an unsealed image after
// a failed pause. It returns cause, or nil if the sandbox runs again.
func (m *Manager) restoreFrom(ctx context.Context, sb *Sandbox, image string, cause error) error {
	defer os.RemoveAll(image)
	if err := m.start(ctx, sb, image); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// resume does the work of Resume; the caller holds the sandbox's lock.
//
//	resuming, runtime running → it was restored; only recording is left;
//	resuming, not running     → back to paused, the image is still there.
func (m *Manager) resume(ctx context.Context, sb *Sandbox, why string) error {
	start := m.now()
	img := m.pauseImage(sb.ID)
	if err := verifyImage(img); err != nil {
		m.fail(ctx, sb, ReasonRestoreFail+": "+err.Error())
		return fmt.Errorf("%w: sandbox %s cannot be resumed: %v", errdefs.ErrConflict, sb.ID, err)
	}
	sb.State, sb.Why = Resuming, why
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return fmt.Errorf("recording the resume: %w", err)
	}
	err := m.start(ctx, sb, img)
	if err == nil {
		if terr := m.renewToken(ctx, sb); terr != nil {
			m.log.Warn("the restored sandbox keeps its snapshot's token", "sandbox", sb.ID, "err", terr)
		}
	}
	if err != nil {
		m.markPaused(sb, "resume failed: "+err.Error())
		if uerr := m.store.UpdateSandbox(ctx, sb); uerr != nil {
			return errors.Join(err, uerr)
		}
		return fmt.Errorf("%w: resuming sandbox %s failed (it stays paused): %v%s", errdefs.ErrUnavailable, sb.ID, err, volumeHint(sb))
	}
	stored := sb.Image
	sb.State, sb.Why, sb.Image = Running, why, ""
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return fmt.Errorf("recording the sandbox as running: %w", err)
	}
	m.forgetImage(ctx, stored)
	m.watch(sb.ID)
	if err := os.RemoveAll(img); err != nil {
		m.log.Warn("removing the pause image", "sandbox", sb.ID, "err", err)
	}
	m.log.Info("sandbox resumed", "sandbox", sb.ID, "why", why, "took", m.now().Sub(start))
	return nil
}

// start restores sb from image into its own network and directory and
// waits for its agent. On failure nothing of the attempt is left running.
func (m *Manager) start(ctx context.Context, sb *Sandbox, image string) error {
	cp, err := m.checkpointer()
	if err != nil {
		return err
	}
	t0 := m.now()
	if err := m.rt.Destroy(ctx, sb.ID); err != nil {
		return fmt.Errorf("clearing the old runtime state: %w", err)
	}
	nsPath, err := m.net.Setup(ctx, sb)
	if err != nil {
		return fmt.Errorf("setting up network: %w", err)
	}
	if err := m.net.Apply(ctx, sb); err != nil { // a fork's is new; a resumed sandbox's unchanged
		return fmt.Errorf("applying the network policy: %w", err)
	}
	m.dropAgent(sb.ID)
	spec := m.runSpec(sb, nsPath)
	if err := m.mountDisk(sb, &spec, image); err != nil {
		return fmt.Errorf("mounting the sandbox's disk: %w", err)
	}
	if err := m.bindVolumes(sb, &spec); err != nil {
		return err
	}
	t1 := m.now()
	if err := cp.Restore(ctx, spec, m.dir(sb.ID), image); err != nil {
		_ = m.rt.Destroy(ctx, sb.ID)
		return err
	}
	t2 := m.now()
	readyCtx, cancel := context.WithTimeout(ctx, m.cfg.ReadyTimeout)
	defer cancel()
	if err := m.agentFor(sb).WaitReady(readyCtx, time.Millisecond); err != nil {
		_ = m.rt.Destroy(ctx, sb.ID)
		return fmt.Errorf("the restored agent did not answer: %w", err)
	}
	m.log.Debug("sandbox restored", "sandbox", sb.ID, "prepare", t1.Sub(t0), "restore", t2.Sub(t1), "agent_ready", m.now().Sub(t2))
	return nil
}

// fail puts a sandbox that can neither run nor be restored in state error.
// Its resources are released; its record and snapshots stay. One with a
// durable disk can start from it again: it is stopped instead.
func (m *Manager) fail(ctx context.Context, sb *Sandbox, reason string) {
	if sb.durable() {
		if err := m.halt(ctx, sb, reason); err != nil {
			m.log.Error("recording a failed sandbox", "sandbox", sb.ID, "err", err)
		}
		return
	}
	m.unwatch(sb.ID)
	_ = m.rt.Destroy(ctx, sb.ID)
	_ = m.net.Teardown(ctx, sb.ID)
	sb.State, sb.StopReason, sb.Why = Error, reason, reason
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		m.log.Error("recording a failed sandbox", "sandbox", sb.ID, "err", err)
	}
	m.log.Error("sandbox failed", "sandbox", sb.ID, "reason", reason)
}

// OnQuiesce registers a function called with a sandbox and its address
// before the sandbox is saved, to close connections into it (a TCP
// connection open at checkpoint time can break the restored network).
func (m *Manager) OnQuiesce(fn func(sb *Sandbox)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.quiesceHooks = append(m.quiesceHooks, fn)
}
