package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/computer"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// Computer use: the routes under /v1/sandboxes/{ref}/computer drive a
// desktop sandbox's screen, mouse and keyboard.

// computerOf returns the computer of the request's sandbox, which must be
// a desktop sandbox.
func (s *Server) computerOf(r *http.Request) (*computer.Computer, error) {
	id := identity(r.Context())
	ref := r.PathValue("ref")
	sb, err := s.sandboxes.Get(r.Context(), id.TeamID, ref)
	if err != nil {
		return nil, err
	}
	if !sb.Desktop {
		return nil, fmt.Errorf("%w: sandbox %s has no desktop: create one with --template desktop", errdefs.ErrConflict, sb.ID)
	}
	if sb.State == sandbox.Running {
		if err := s.waitDesktop(r.Context(), sb.ID); err != nil {
			return nil, err
		}
	}
	return computer.New(sandboxRunner{s: s, team: id.TeamID, ref: sb.ID}), nil
}

// desktopWait bounds how long a computer call waits for a desktop that is
// still starting (a few seconds after create).
var desktopWait = 30 * time.Second

// waitDesktop returns once the sandbox's desktop is up, so that a call
// made right after create acts on a desktop rather than failing on one
// that is half started.
func (s *Server) waitDesktop(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, desktopWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !s.sandboxes.VNCReady(id) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: the desktop of sandbox %s is not up after %s; check its vnc_ready and try again", errdefs.ErrUnavailable, id, desktopWait)
		case <-tick.C:
		}
	}
	return nil
}

// sandboxRunner runs the computer's commands through the sandbox's agent.
type sandboxRunner struct {
	s         *Server
	team, ref string
}

func (r sandboxRunner) Run(ctx context.Context, cmd []string, env map[string]string) (stdout, stderr []byte, code int, err error) {
	var startErr string
	err = r.s.sandboxes.Exec(ctx, r.team, r.ref, agentapi.ExecRequest{Cmd: cmd, Env: env, TimeoutMS: 60_000}, func(ev agentapi.Event) error {
		switch ev.Type {
		case agentapi.EventStdout:
			stdout = append(stdout, ev.Data...)
		case agentapi.EventStderr:
			stderr = append(stderr, ev.Data...)
		case agentapi.EventError:
			startErr = ev.Message
		case agentapi.EventExit:
			if ev.ExitCode != nil {
				code = *ev.ExitCode
			}
		}
		return nil
	})
	if err == nil && startErr != "" {
		stderr, code = append(stderr, startErr...), max(code, 127)
	}
	return stdout, stderr, code, err
}

func (r sandboxRunner) Start(ctx context.Context, cmd []string, env map[string]string) (int, error) {
	return r.s.sandboxes.Start(ctx, r.team, r.ref, agentapi.ExecRequest{Cmd: cmd, Env: env, Cwd: "/root"})
}

func (s *Server) screenshot(w http.ResponseWriter, r *http.Request) error {
	c, err := s.computerOf(r)
	if err != nil {
		return err
	}
	png, err := c.Screenshot(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(png)
	return err
}

func (s *Server) screenSize(w http.ResponseWriter, r *http.Request) error {
	c, err := s.computerOf(r)
	if err != nil {
		return err
	}
	size, err := c.Screen(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.ScreenSize{Width: size.Width, Height: size.Height})
}

func (s *Server) cursor(w http.ResponseWriter, r *http.Request) error {
	c, err := s.computerOf(r)
	if err != nil {
		return err
	}
	p, err := c.Cursor(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, client.Point{X: p.X, Y: p.Y})
}

func (s *Server) windows(w http.ResponseWriter, r *http.Request) error {
	c, err := s.computerOf(r)
	if err != nil {
		return err
	}
	ws, err := c.Windows(r.Context())
	if err != nil {
		return err
	}
	return writeList(w, "windows", ws, func(win computer.Window) client.Window { return client.Window{ID: win.ID, Title: win.Title} })
}

func (s *Server) computerAction(w http.ResponseWriter, r *http.Request) error {
	c, err := s.computerOf(r) // first: another team's sandbox is not found, whatever the body
	if err != nil {
		return err
	}
	var a client.ComputerAction
	if err := decode(w, r, &a); err != nil {
		return err
	}
	var p *computer.Point
	if a.X != nil || a.Y != nil {
		if a.X == nil || a.Y == nil {
			return invalid("give both x and y, or neither")
		}
		p = &computer.Point{X: *a.X, Y: *a.Y}
	}
	ctx := r.Context()
	var res client.ComputerResult
	switch a.Action {
	case client.ActionMove:
		if p == nil {
			return invalid("move needs x and y")
		}
		err = c.Move(ctx, *p)
	case client.ActionClick:
		err = c.Click(ctx, p, a.Button, a.Count)
	case client.ActionScroll:
		err = c.Scroll(ctx, p, a.DX, a.DY)
	case client.ActionType:
		err = c.Type(ctx, a.Text)
	case client.ActionKey:
		err = c.Key(ctx, a.Keys...)
	case client.ActionLaunch:
		var l computer.LaunchResult
		l, err = c.Launch(ctx, a.App, a.Args...)
		res.PID = l.PID
		if l.Window.ID != "" {
			res.Window = &client.Window{ID: l.Window.ID, Title: l.Window.Title}
		}
	default:
		return invalid("action %q: want move, click, scroll, type, key or launch", a.Action)
	}
	if err != nil {
		return err
	}
	if cur, err := c.Cursor(ctx); err == nil {
		res.Cursor = client.Point{X: cur.X, Y: cur.Y}
	}
	return writeJSON(w, http.StatusOK, res)
}
