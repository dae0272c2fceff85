package sandbox

import (
	"context"
	"errors"
)

// watch follows a running sandbox and records it as stopped, with the
// reason and its disk kept, when it ends on its own (out of memory, crash).
func (m *Manager) watch(id string) {
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	e := m.entryLocked(id)
	if e.unwatch != nil {
		e.unwatch()
	}
	e.unwatch = cancel
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.wg.Go(func() { m.probeDesktop(ctx, id) })
		exit, err := m.rt.Wait(ctx, id)
		if ctx.Err() != nil {
			// Unwatched: the sandbox is being paused, destroyed or replaced,
			// and whatever exit Wait saw is that operation's doing.
			return
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				m.log.Warn("watching sandbox failed", "sandbox", id, "err", err)
			}
			return
		}
		m.ended(id, exit)
	}()
}

func (m *Manager) unwatch(id string) {
	if cancel := m.unwatched(id); cancel != nil {
		cancel()
	}
}

// unwatched marks a sandbox as no longer followed, and returns the
// function that stopped following it, if it was.
func (m *Manager) unwatched(id string) context.CancelFunc {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[id]
	if e == nil {
		return nil
	}
	cancel := e.unwatch
	e.unwatch, e.vnc = nil, false
	return cancel
}

// ended handles a sandbox that stopped without being asked to.
func (m *Manager) ended(id string, exit Exit) {
	ctx := context.Background()
	unlock := m.lock(id)
	defer unlock()
	m.unwatched(id)
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil || sb.State != Running {
		return // destroyed or being handled elsewhere
	}
	reason := ReasonCrashed
	if exit.OOM {
		reason = ReasonOOM
	}
	if exit.Detail != "" {
		reason += ": " + exit.Detail
	}
	m.log.Warn("sandbox ended on its own", "sandbox", id, "reason", reason)
	if err := m.halt(ctx, sb, reason); err != nil {
		m.log.Error("recording a sandbox that ended", "sandbox", id, "err", err)
	}
}
