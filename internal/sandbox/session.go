package sandbox

import (
	"context"
	"maps"
	"sync"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// Session is one caller's use of a sandbox's agent, from Open to Close:
// every agent call of the API, the SSH gateway, the proxy and the builder
// goes through one. Open wakes a paused sandbox and counts the caller as
// activity, so that no idle pause comes in between; the commands a session
// starts get the sandbox's environment under their own; and an agent that
// cannot be reached because the sandbox died is told as that.
type Session struct {
	m     *Manager // nil in NewSession's: errors are not explained
	sb    *Sandbox
	ag    *agentclient.Client
	close sync.Once
	done  func()
}

// Open starts a session on a team's sandbox, waking it if it is paused.
// The caller calls Close when it is done with the agent.
func (m *Manager) Open(ctx context.Context, teamID, ref string) (*Session, error) {
	ag, sb, done, err := m.use(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	return &Session{m: m, sb: sb, ag: ag, done: done}, nil
}

// NewSession is a session on sb's agent ag, which calls done when closed:
// for tests of the code above the manager.
func NewSession(sb *Sandbox, ag *agentclient.Client, done func()) *Session {
	return &Session{sb: sb, ag: ag, done: done}
}

// Sandbox returns the sandbox's record as the session found it.
func (s *Session) Sandbox() *Sandbox { return s.sb }

// Close ends the session's activity. It may be called more than once.
func (s *Session) Close() {
	s.close.Do(func() {
		if s.done != nil {
			s.done()
		}
	})
}

// Do runs fn with the sandbox's agent and explains its error.
func (s *Session) Do(ctx context.Context, fn func(*agentclient.Client) error) error {
	return s.explain(ctx, fn(s.ag))
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
	return s.Do(ctx, func(ag *agentclient.Client) error { return ag.Exec(ctx, req, onEvent) })
}

// Start starts a background command and returns its process ID.
func (s *Session) Start(ctx context.Context, req agentapi.ExecRequest) (pid int, err error) {
	req.Env = s.Env(req.Env)
	err = s.Do(ctx, func(ag *agentclient.Client) error { pid, err = ag.Start(ctx, req); return err })
	return pid, err
}

// Attach starts a command attached to the caller's streams (or a shell
// when req has no command).
func (s *Session) Attach(ctx context.Context, req agentapi.AttachRequest) (as *agentclient.AttachSession, err error) {
	req.Env = s.Env(req.Env)
	err = s.Do(ctx, func(ag *agentclient.Client) error { as, err = ag.Attach(ctx, req); return err })
	return as, err
}

func (s *Session) explain(ctx context.Context, err error) error {
	if s.m == nil {
		return err
	}
	return s.m.explain(ctx, s.sb, err)
}
