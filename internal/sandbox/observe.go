package sandbox

import (
	"context"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// The operations reported to an Observer.
const (
	OpCreate   = "create"
	OpExec     = "exec"
	OpStart    = "start" // a background command
	OpPause    = "pause"
	OpResume   = "resume" // on request or woken by use
	OpSnapshot = "snapshot"
	OpRollback = "rollback"
	OpFork     = "fork"
	OpDestroy  = "destroy"
)

// Observer is told how long the manager's operations take and how they
// end, for metrics. It is called from many goroutines and must not block.
type Observer interface {
	// Observe reports one operation op (an Op constant) that took d and
	// succeeded (err nil) or failed with err.
	//
	// An exec is reported when its first event arrives (the command
	// started, or could not be started), so d is how long the sandbox took
	// to run it, not how long the command ran; an exec that fails later is
	// reported a second time, with its error.
	Observe(op string, d time.Duration, err error)
}

// SetObserver sets who is told about operations; nil, the default, tells
// no one. Call it before the manager is used.
func (m *Manager) SetObserver(o Observer) { m.observer = o }

// observe reports the operation op that started at start and ended with
// *err. Deferred as: defer m.observe(OpX, m.now(), &err).
func (m *Manager) observe(op string, start time.Time, err *error) {
	if m.observer != nil {
		m.observer.Observe(op, m.now().Sub(start), *err)
	}
}

// timed runs fn and reports it as op.
func (m *Manager) timed(op string, fn func() error) (err error) {
	defer m.observe(op, m.now(), &err)
	return fn()
}

// execTimer reports one exec: its latency at its first event, its error
// at its end.
type execTimer struct {
	m       *Manager
	ctx     context.Context
	start   time.Time
	started bool
}

func (m *Manager) timeExec(ctx context.Context) *execTimer {
	return &execTimer{m: m, ctx: ctx, start: m.now()}
}

// events passes the events on to onEvent, reporting the first.
func (t *execTimer) events(onEvent func(agentapi.Event) error) func(agentapi.Event) error {
	return func(ev agentapi.Event) error {
		if !t.started {
			t.started = true
			var ok error
			t.m.observe(OpExec, t.start, &ok)
		}
		return onEvent(ev)
	}
}

// done reports a failed exec. When the caller went away, that is the
// error reported: the sandbox did nothing wrong.
func (t *execTimer) done(err error) {
	if err == nil {
		return
	}
	if cerr := t.ctx.Err(); cerr != nil {
		err = cerr
	}
	t.m.observe(OpExec, t.start, &err)
}
