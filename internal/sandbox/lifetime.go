package sandbox

// Lifetimes: a sandbox's hard timeout (destroy or pause when it runs out,
// with a warning event a minute before), and the paused TTL that destroys
// a sandbox left paused too long. Every deadline is in the record, so it
// fires across a daemon restart; the idle loop checks them every second.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// What a sandbox does when its timeout runs out.
const (
	OnTimeoutDestroy = "destroy"
	OnTimeoutPause   = "pause"
)

// Lifetime settings and the events they record.
const (
	// MaxTimeout bounds a sandbox's hard lifetime: 30 days.
	MaxTimeout = 30 * 24 * time.Hour
	// TimeoutWarning is how long before its timeout a sandbox's
	// WhyTimeoutWarning event is recorded.
	TimeoutWarning = time.Minute
	// WhyTimeoutWarning is the reason of the event that says a sandbox
	// times out within TimeoutWarning; the timeout's own event has the
	// reason ReasonTimeout.
	WhyTimeoutWarning = "timeout-warning"
)

// validTimeout checks a timeout and what happens then, "" for the default.
func validTimeout(d time.Duration, on *string) error {
	if d < 0 || d > MaxTimeout {
		return fmt.Errorf("%w: timeout must be between 0 (none) and %s, got %s", errdefs.ErrInvalidArgument, MaxTimeout, d)
	}
	if *on == "" {
		*on = OnTimeoutDestroy
	}
	if *on != OnTimeoutDestroy && *on != OnTimeoutPause {
		return fmt.Errorf("%w: on_timeout is %q or %q, got %q", errdefs.ErrInvalidArgument, OnTimeoutDestroy, OnTimeoutPause, *on)
	}
	return nil
}

// SetTimeout sets a sandbox's timeout to d from now (0 removes it) and,
// unless on is "", what happens then.
func (m *Manager) SetTimeout(ctx context.Context, teamID, ref string, d time.Duration, on string) (*Sandbox, error) {
	sb, unlock, err := m.getLocked(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if on == "" {
		on = sb.OnTimeout
	}
	if err := validTimeout(d, &on); err != nil {
		return nil, err
	}
	if !sb.Live() {
		return nil, fmt.Errorf("%w: sandbox %s is destroyed", errdefs.ErrConflict, sb.ID)
	}
	sb.TimeoutAt, sb.OnTimeout, sb.TimeoutWarned = time.Time{}, on, false
	if d > 0 {
		sb.TimeoutAt = m.now().UTC().Add(d)
	}
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, err
	}
	return sb, nil
}

// markPaused sets sb paused for why, from now: the paused TTL counts
// from here.
func (m *Manager) markPaused(sb *Sandbox, why string) {
	sb.State, sb.Why, sb.PausedAt = Paused, why, m.now().UTC()
}

// PausedTTLAt is when sb, paused, is destroyed for being paused too long;
// zero when it is not paused or the server keeps paused sandboxes.
func (m *Manager) PausedTTLAt(sb *Sandbox) time.Time {
	if sb.State != Paused || m.cfg.PausedTTL <= 0 || sb.PausedAt.IsZero() {
		return time.Time{}
	}
	return sb.PausedAt.Add(m.cfg.PausedTTL)
}

// due is what a sandbox's lifetimes ask for at a moment.
type due int

const (
	dueNothing due = iota
	dueWarning
	dueTimeout
	duePausedTTL
)

// lifetimeDue says what of sb's lifetimes is due at now.
func (m *Manager) lifetimeDue(sb *Sandbox, now time.Time) due {
	if !sb.Live() || sb.State == Creating || sb.State == Stopping {
		return dueNothing
	}
	if t := sb.TimeoutAt; !t.IsZero() {
		if !now.Before(t) {
			return dueTimeout
		}
		if !sb.TimeoutWarned && !now.Before(t.Add(-TimeoutWarning)) {
			return dueWarning
		}
	}
	if t := m.PausedTTLAt(sb); !t.IsZero() && !now.Before(t) {
		return duePausedTTL
	}
	return dueNothing
}

// checkLifetimes starts, for each sandbox of list, what its lifetimes ask
// for at now, unless it is still under way from an earlier check.
func (m *Manager) checkLifetimes(ctx context.Context, list []*Sandbox, now time.Time) {
	for _, sb := range list {
		d := m.lifetimeDue(sb, now)
		if d == dueNothing || !m.beginLifetime(sb.ID) {
			continue
		}
		m.lifeWG.Add(1)
		go func(id string) {
			defer m.lifeWG.Done()
			defer m.endLifetime(id)
			m.runLifetime(context.WithoutCancel(ctx), id, d)
		}(sb.ID)
	}
}

func (m *Manager) beginLifetime(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lifeBusy[id] {
		return false
	}
	m.lifeBusy[id] = true
	return true
}

func (m *Manager) endLifetime(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.lifeBusy, id)
}

// runLifetime does what d asks of sandbox id, if the record, read again
// under its lock, still asks for it.
func (m *Manager) runLifetime(ctx context.Context, id string, d due) {
	still := func(sb *Sandbox) bool { return m.lifetimeDue(sb, m.now()) == d }
	var err error
	switch {
	case d == dueWarning:
		err = m.warnTimeout(ctx, id, still)
	case d == dueTimeout && m.onTimeout(ctx, id) == OnTimeoutPause:
		err = m.timeoutPause(ctx, id, still)
	case d == dueTimeout:
		_, err = m.destroy(ctx, id, ReasonTimeout, still)
	case d == duePausedTTL:
		_, err = m.destroy(ctx, id, ReasonPausedTTL, still)
	}
	if err != nil {
		m.log.Warn("sandbox lifetime", "sandbox", id, "due", d, "err", err)
	}
}

func (m *Manager) onTimeout(ctx context.Context, id string) string {
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil {
		return ""
	}
	return sb.OnTimeout
}

// warnTimeout records the event that says sandbox id times out soon.
func (m *Manager) warnTimeout(ctx context.Context, id string, still func(*Sandbox) bool) error {
	unlock := m.lock(id)
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil || !still(sb) {
		return err
	}
	// The event first: after a crash between the two, it is given twice
	// rather than never.
	if err := m.store.AddEvent(ctx, id, sb.State, WhyTimeoutWarning); err != nil {
		return err
	}
	sb.TimeoutWarned = true
	return m.store.UpdateSandbox(ctx, sb)
}

// timeoutPause pauses sandbox id whose timeout ran out and clears the
// timeout; a sandbox already paused or stopped stays so, with the event.
func (m *Manager) timeoutPause(ctx context.Context, id string, still func(*Sandbox) bool) error {
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil {
		return err
	}
	sb, done, err := m.exclusive(ctx, sb.TeamID, id)
	if err != nil {
		return err
	}
	defer done()
	if !still(sb) {
		return nil
	}
	sb.TimeoutAt, sb.TimeoutWarned = time.Time{}, false
	if sb.State == Running {
		return m.pause(ctx, sb, ReasonTimeout)
	}
	if err := m.store.AddEvent(ctx, id, sb.State, ReasonTimeout); err != nil {
		return err
	}
	return m.store.UpdateSandbox(ctx, sb)
}

// Names of the snapshots fork and save take for themselves and remove
// when done: the snapshot cap leaves them alone.
const (
	forkSnapshotPrefix = "fork-"
	saveSnapshotPrefix = "save-"
)

// TakeSnapshot is Snapshot as a user asks for it: pinned, the snapshot is
// kept by the server's snapshot cap (Config.MaxSnapshots), which then
// removes the sandbox's oldest unpinned snapshots beyond it.
func (m *Manager) TakeSnapshot(ctx context.Context, teamID, ref, name string, pin bool) (*Snapshot, error) {
	if err := m.checkDisk(ctx, teamID); err != nil {
		return nil, err
	}
	sn, err := m.Snapshot(ctx, teamID, ref, name)
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	unlock := m.lock(sn.SandboxID)
	defer unlock()
	if pin {
		sn.Pinned = true
		if err := m.store.UpdateSnapshot(ctx, sn); err != nil {
			return nil, err
		}
	}
	return sn, m.capSnapshots(ctx, sn.SandboxID)
}

// capSnapshots removes sandbox id's oldest unpinned snapshots while it has
// more than the cap; the caller holds its lock.
func (m *Manager) capSnapshots(ctx context.Context, id string) error {
	if m.cfg.MaxSnapshots <= 0 {
		return nil
	}
	list, err := m.readySnapshots(ctx, id)
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(sn *Snapshot) bool {
		return strings.HasPrefix(sn.Name, forkSnapshotPrefix) || strings.HasPrefix(sn.Name, saveSnapshotPrefix)
	})
	extra := len(list) - m.cfg.MaxSnapshots
	for _, sn := range list { // oldest first
		if extra <= 0 {
			break
		}
		if sn.Pinned {
			continue
		}
		if err := m.removeSnapshot(ctx, sn); err != nil {
			return fmt.Errorf("removing snapshot %s beyond the cap of %d: %w", sn.Name, m.cfg.MaxSnapshots, err)
		}
		m.log.Info("snapshot removed: beyond the cap", "sandbox", id, "snapshot", sn.Name, "max", m.cfg.MaxSnapshots)
		extra--
	}
	return nil
}
