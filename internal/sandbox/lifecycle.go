package sandbox

// Stop and start: a stopped sandbox has no processes and costs no memory;
// it keeps its record, name, address and (durable) disk, and starts again
// from that disk as after a reboot.

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Stop ends a running or paused sandbox's processes and keeps its disk (a
// paused sandbox's saved memory is dropped). Stopping a stopped sandbox is
// a no-op.
func (m *Manager) Stop(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	sb, done, err := m.exclusive(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer done()
	switch sb.State {
	case Stopped:
		return sb, nil
	case Running, Paused:
		return sb, m.halt(context.WithoutCancel(ctx), sb, ReasonStopped+": on request")
	}
	return sb, notRunning(sb)
}

// Boot starts a stopped sandbox (`runtools sandbox start`) from its disk,
// with its ID, name, address and settings; its processes start fresh, the
// template's start command again, and Boot waits for it as Create does.
// Booting a running sandbox is a no-op; a paused one is resumed.
func (m *Manager) Boot(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	sb, err := m.find(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	sb, tpl, err := m.wakeLocked(context.WithoutCancel(ctx), sb.ID, "started on request", true)
	if err == nil && tpl != nil {
		m.startCommand(context.WithoutCancel(ctx), sb, *tpl)
	}
	return sb, err
}

// halt stops sb where it is, keeping its disk, and records why; the
// caller holds its lock. It is how stop, a crash and a failed start end.
func (m *Manager) halt(ctx context.Context, sb *Sandbox, reason string) error {
	m.unwatch(sb.ID)
	m.dropAgent(sb.ID)
	var errs []error
	if err := m.rt.Destroy(ctx, sb.ID); err != nil {
		errs = append(errs, err)
	}
	if err := m.net.Teardown(ctx, sb.ID); err != nil {
		errs = append(errs, err)
	}
	if err := m.unmountDisk(sb); err != nil {
		errs = append(errs, err)
	}
	_ = os.RemoveAll(m.pauseImage(sb.ID))
	if !sb.durable() {
		reason += " (its disk was ephemeral: it starts from its template again)"
	}
	if err := m.markGone(ctx, sb, Stopped, reason); err != nil {
		return err
	}
	m.forget(sb.ID)
	for _, err := range errs {
		m.log.Warn("stopping a sandbox left something behind", "sandbox", sb.ID, "err", err)
	}
	m.log.Info("sandbox stopped", "sandbox", sb.ID, "reason", reason)
	return nil
}

// boot starts a stopped sandbox afresh from its disk; the caller holds its
// lock. A failure leaves it stopped, saying why. It returns the
// template, whose start command the caller runs once it lets go of the
// lock.
func (m *Manager) boot(ctx context.Context, sb *Sandbox, why string) (Template, error) {
	tpl, err := m.tpl.Resolve(ctx, sb.TeamID, sb.Template)
	if err != nil && !sb.durable() {
		return Template{}, fmt.Errorf("%w: sandbox %s cannot start: its template: %v", errdefs.ErrConflict, sb.ID, err)
	}
	if err := m.bootRuntime(ctx, sb, tpl); err != nil {
		_ = m.rt.Destroy(ctx, sb.ID)
		_ = m.net.Teardown(ctx, sb.ID)
		_ = m.unmountDisk(sb)
		sb.Why = "start failed: " + err.Error()
		_ = m.store.UpdateSandbox(ctx, sb)
		return Template{}, fmt.Errorf("%w: starting sandbox %s failed (it stays stopped): %v", errdefs.ErrUnavailable, sb.ID, err)
	}
	sb.State, sb.StopReason, sb.Why, sb.StartedAt = Running, "", why, m.now().UTC()
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return Template{}, fmt.Errorf("recording the sandbox as running: %w", err)
	}
	m.watch(sb.ID)
	m.log.Info("sandbox started", "sandbox", sb.ID, "why", why)
	return tpl, nil
}

func (m *Manager) bootRuntime(ctx context.Context, sb *Sandbox, tpl Template) error {
	if err := os.MkdirAll(m.dir(sb.ID), 0o700); err != nil {
		return err
	}
	_ = m.rt.Destroy(ctx, sb.ID)
	nsPath, err := m.net.Setup(ctx, sb)
	if err != nil {
		return fmt.Errorf("setting up network: %w", err)
	}
	if err := m.net.Apply(ctx, sb); err != nil {
		return fmt.Errorf("applying the network policy: %w", err)
	}
	spec := m.runSpec(sb, nsPath)
	spec.RootFS = tpl.RootFS
	if err := m.mountDisk(sb, &spec, ""); err != nil {
		return err
	}
	if err := m.bindVolumes(sb, &spec); err != nil {
		return err
	}
	spec.Env = append(spec.Env, templateEnv(tpl)...)
	if err := m.rt.Start(ctx, spec); err != nil {
		return err
	}
	readyCtx, cancel := context.WithTimeout(ctx, m.cfg.ReadyTimeout)
	defer cancel()
	if err := m.agentFor(sb).WaitReady(readyCtx, 2*time.Millisecond); err != nil {
		return fmt.Errorf("the sandbox's agent did not answer within %s: %v", m.cfg.ReadyTimeout, err)
	}
	return nil
}
