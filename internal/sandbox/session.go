package sandbox

import (
	"context"
	"io"
	"maps"
	"sync"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// Session is one caller's use of a sandbox's agent, from Open to Close:
// every agent call of the API, the SSH gateway, the proxy and the builder
// goes through one. Open wakes a paused sandbox and counts the caller as
// activity, so that no idle pause comes in between; the commands a session
// starts get the sandbox's environment under their own; a call in flight
// ends as soon as the sandbox is destroyed or dies, and says so, rather
// than when its connection times out minutes later.
type Session struct {
	m       *Manager // nil in NewSession's: errors are not explained
	sb      *Sandbox
	ag      *agentclient.Client
	life    context.Context // ends with the sandbox
	mu      sync.Mutex
	closed  bool
	unbinds []func() bool // streams to close when the sandbox ends, until Close
	done    func()
}

// Open starts a session on a team's sandbox, waking it if it is paused.
// The caller calls Close when it is done with the agent.
func (m *Manager) Open(ctx context.Context, teamID, ref string) (*Session, error) {
	ag, sb, done, err := m.use(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	return &Session{m: m, sb: sb, ag: ag, life: m.life(sb.ID), done: done}, nil
}

// NewSession is a session on sb's agent ag, which calls done when closed:
// for tests of the code above the manager.
func NewSession(sb *Sandbox, ag *agentclient.Client, done func()) *Session {
	return &Session{sb: sb, ag: ag, life: context.Background(), done: done}
}

// Sandbox returns the sandbox's record as the session found it.
func (s *Session) Sandbox() *Sandbox { return s.sb }

// Close ends the session's activity, and its streams' tie to the
// sandbox's life. It may be called more than once.
func (s *Session) Close() {
	s.mu.Lock()
	closed, unbinds := s.closed, s.unbinds
	s.closed, s.unbinds = true, nil
	s.mu.Unlock()
	if closed {
		return
	}
	for _, unbind := range unbinds {
		unbind()
	}
	if s.done != nil {
		s.done()
	}
}

// Do runs fn with the sandbox's agent and a context that also ends with
// the sandbox, and explains its error.
func (s *Session) Do(ctx context.Context, fn func(context.Context, *agentclient.Client) error) error {
	ctx, stop := bind(ctx, s.life)
	defer stop()
	return s.explain(ctx, fn(ctx, s.ag))
}

// bind returns ctx, cancelled too when life ends.
func bind(ctx, life context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(life, cancel)
	return ctx, func() { stop(); cancel() }
}

// closeWithSandbox closes c when the sandbox ends, should it end before
// the session is closed: a stream outlives the call that opened it.
func (s *Session) closeWithSandbox(c io.Closer) {
	unbind := context.AfterFunc(s.life, func() { c.Close() })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		unbind()
		return
	}
	s.unbinds = append(s.unbinds, unbind)
}

// Env returns the environment of a command the session starts: the
// sandbox's own, which the command's variables override.
func (s *Session) Env(over map[string]string) map[string]string {
	if len(s.sb.Env) == 0 {
		return over
	}
	out := maps.Clone(s.sb.Env)
	maps.Copy(out, over)
	return out
}

// Exec runs a command to its end, streaming its events to onEvent.
func (s *Session) Exec(ctx context.Context, req agentapi.ExecRequest, onEvent func(agentapi.Event) error) error {
	req.Env = s.Env(req.Env)
	return s.Do(ctx, func(ctx context.Context, ag *agentclient.Client) error { return ag.Exec(ctx, req, onEvent) })
}

// Start starts a background command and returns its process ID.
func (s *Session) Start(ctx context.Context, req agentapi.ExecRequest) (pid int, err error) {
	req.Env = s.Env(req.Env)
	err = s.Do(ctx, func(ctx context.Context, ag *agentclient.Client) error { pid, err = ag.Start(ctx, req); return err })
	return pid, err
}

// Attach starts a command attached to the caller's streams (or a shell
// when req has no command). The stream ends with the sandbox.
func (s *Session) Attach(ctx context.Context, req agentapi.AttachRequest) (as *agentclient.AttachSession, err error) {
	req.Env = s.Env(req.Env)
	return Stream(ctx, s, func(ctx context.Context, ag *agentclient.Client) (*agentclient.AttachSession, error) {
		return ag.Attach(ctx, req)
	})
}

// Stream opens a stream with open (a port forward, SFTP, an archive) that
// is closed when the sandbox ends, should that come first. It lives on
// ctx, not on a context Stream ends.
func Stream[T io.Closer](ctx context.Context, s *Session, open func(context.Context, *agentclient.Client) (T, error)) (T, error) {
	c, err := open(ctx, s.ag)
	if err != nil {
		return c, s.explain(ctx, err)
	}
	s.closeWithSandbox(c)
	return c, nil
}

// explain turns the error of a call that met a dead sandbox into the
// sandbox's own story.
func (s *Session) explain(ctx context.Context, err error) error {
	if err == nil || s.m == nil {
		return err
	}
	if s.life.Err() != nil {
		return s.m.gone(context.WithoutCancel(ctx), s.sb)
	}
	return s.m.explain(ctx, s.sb, err)
}
