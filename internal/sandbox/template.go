package sandbox

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// StartWait bounds how long a create waits for the first port a custom
// template exposes to answer, once its start command runs.
var StartWait = 30 * time.Second

// template returns what a new sandbox starts from: a root filesystem the
// daemon prepared (a build step), or the template the team named.
func (m *Manager) template(ctx context.Context, teamID string, opts CreateOptions) (Template, error) {
	if opts.RootFS != "" {
		return Template{Name: opts.Template, RootFS: opts.RootFS}, nil
	}
	return m.tpl.Resolve(ctx, teamID, opts.Template)
}

// templateEnv is what the agent (PID 1) takes from a template: the image's
// environment, which becomes every process's, and exec's defaults.
func templateEnv(tpl Template) []string {
	env := append([]string(nil), tpl.Env...)
	if tpl.Workdir != "" {
		env = append(env, agentapi.EnvWorkdir+"="+tpl.Workdir)
	}
	if tpl.User != "" {
		env = append(env, agentapi.EnvUser+"="+tpl.User)
	}
	return env
}

// startCommand starts a custom template's command (its ENTRYPOINT and
// CMD) in the background of a new sandbox and waits, at most StartWait,
// for the first port the template exposes to answer, so that a dev server
// is up when create returns. What happens is recorded as an event; a
// command that fails leaves the sandbox running, as a container's would
// not, so that it can be looked into.
func (m *Manager) startCommand(ctx context.Context, sb *Sandbox, tpl Template) {
	if len(tpl.Start) == 0 {
		return
	}
	why := "start command: " + strings.Join(tpl.Start, " ")
	pid, err := m.Start(ctx, sb.TeamID, sb.ID, agentapi.ExecRequest{Cmd: tpl.Start})
	if err != nil {
		m.event(ctx, sb, why+" failed: "+err.Error())
		return
	}
	m.event(ctx, sb, why+" (pid "+strconv.Itoa(pid)+")")
	if len(tpl.Ports) == 0 {
		return
	}
	addr := net.JoinHostPort(sb.IP.String(), strconv.Itoa(tpl.Ports[0]))
	deadline := m.now().Add(StartWait)
	for i := 0; m.now().Before(deadline); i++ {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if i%10 == 9 {
			if exited, code := m.exited(ctx, sb, pid); exited {
				m.event(ctx, sb, "start command exited with code "+strconv.Itoa(code)+" before port "+strconv.Itoa(tpl.Ports[0])+" answered")
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	m.event(ctx, sb, "port "+strconv.Itoa(tpl.Ports[0])+" did not answer within "+StartWait.String()+" of the start command")
}

// exited reports whether process pid of sb has ended, and its exit code.
func (m *Manager) exited(ctx context.Context, sb *Sandbox, pid int) (bool, int) {
	s, err := m.Open(ctx, sb.TeamID, sb.ID)
	if err != nil {
		return false, 0
	}
	defer s.Close()
	var procs []agentapi.Process
	if err := s.Do(ctx, func(ctx context.Context, ag *agentclient.Client) error { procs, err = ag.Processes(ctx); return err }); err != nil {
		return false, 0
	}
	for _, p := range procs {
		if p.PID == pid && !p.Running {
			code := -1
			if p.ExitCode != nil {
				code = *p.ExitCode
			}
			return true, code
		}
	}
	return false, 0
}

// event records a note on a sandbox's history, logging a failure to.
func (m *Manager) event(ctx context.Context, sb *Sandbox, why string) {
	if err := m.store.AddEvent(ctx, sb.ID, sb.State, why); err != nil {
		m.log.Warn("recording an event", "sandbox", sb.ID, "err", err)
	}
}
