package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// startFlushDelay is how long a start event may wait for company.
const startFlushDelay = 25 * time.Millisecond

// maxExecBody bounds an exec request, stdin included.
const maxExecBody = 64 << 20

// handleExec starts a process. A foreground exec answers with an ndjson
// event stream; failures to start the process (unknown executable, user or
// working directory) are reported in that stream as an error event followed
// by exit 127 (not found) or 126 (anything else). A background exec answers
// with agentapi.StartResponse, or with an error status when it cannot start.
func (s *Server) handleExec(w http.ResponseWriter, r *http.Request) error {
	var req agentapi.ExecRequest
	if err := decodeRequest(w, r, maxExecBody, "exec", &req); err != nil {
		return err
	}
	io.Copy(io.Discard, r.Body)
	if err := checkExec(&req); err != nil {
		return err
	}
	if req.Background {
		p, err := s.launch(&req, true)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, agentapi.StartResponse{PID: p.pid})
		return nil
	}
	s.execForeground(w, r, &req)
	return nil
}

// checkExec reports what is wrong with an exec request.
func checkExec(req *agentapi.ExecRequest) error {
	switch {
	case len(req.Cmd) == 0 || req.Cmd[0] == "":
		return fmt.Errorf("%w: cmd is empty", errdefs.ErrInvalidArgument)
	case req.TimeoutMS < 0:
		return fmt.Errorf("%w: timeout_ms is negative", errdefs.ErrInvalidArgument)
	}
	if err := checkEnv(req.Env); err != nil {
		return err
	}
	if req.StdinOpen && (!req.Background || len(req.Stdin) > 0) {
		return fmt.Errorf("%w: stdin_open is for background processes without stdin", errdefs.ErrInvalidArgument)
	}
	return nil
}

func (s *Server) execForeground(w http.ResponseWriter, r *http.Request, req *agentapi.ExecRequest) {
	p, err := s.launch(req, false)
	ew := newEventWriter(w)
	if err != nil {
		s.log.Debug("exec failed to start", "cmd", req.Cmd, "err", err)
		code := startExitCode(err)
		ew.send(agentapi.Event{Type: agentapi.EventError, Message: errMessage(err)})
		ew.send(agentapi.Event{Type: agentapi.EventExit, ExitCode: &code})
		return
	}
	// The caller going away kills the process group; the loop below still
	// drains the output so that no goroutine is left behind.
	stop := context.AfterFunc(r.Context(), p.kill)
	defer stop()
	// The start event waits up to startFlushDelay for the next one: a short
	// command's start then leaves in the same packet as its exit, which
	// saves a round of writes and wake-ups on every hop back to the caller.
	ew.send(agentapi.Event{Type: agentapi.EventStart, PID: p.pid})
	timer := time.NewTimer(startFlushDelay)
	defer timer.Stop()
loop:
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				break loop
			}
			ew.send(ev)
		case <-timer.C:
			ew.flush()
		}
	}
	<-p.done
	ew.send(p.exitEvent())
}

// launch resolves the request and starts the process with its goroutines.
func (s *Server) launch(req *agentapi.ExecRequest, background bool) (*process, error) {
	spec, err := s.resolve(req.User, req.Env, req.Cwd, req.Cmd)
	if err != nil {
		return nil, err
	}
	st, err := newPipes(len(req.Stdin) > 0 || req.StdinOpen)
	if err != nil {
		return nil, err
	}
	attr := &syscall.SysProcAttr{
		Setpgid:    true, // own group, so signals and kills reach its children
		Credential: spec.cred,
	}
	p, err := s.start(spec, st, attr)
	if err != nil {
		return nil, err
	}
	p.background = background
	p.stdinOpen = req.StdinOpen
	onExit := s.procs.exited
	if background {
		p.out = newOutputLog(outputLimit)
		p.emit = func(ev agentapi.Event) { p.out.append(ev.Type, ev.Data) }
		onExit = func(p *process) {
			p.out.finish(p.exitEvent())
			s.procs.exited(p)
		}
	} else {
		p.events = make(chan agentapi.Event, 16)
		p.emit = func(ev agentapi.Event) { p.events <- ev }
	}
	s.procs.add(p)
	stdin := req.Stdin
	if req.StdinOpen {
		stdin = nil // written to by handleStdin
	}
	p.run(s.spawner, stdin, time.Duration(req.TimeoutMS)*time.Millisecond, onExit)
	s.log.Debug("process started", "pid", p.pid, "cmd", req.Cmd, "user", spec.user.Name, "background", background)
	return p, nil
}

// credential returns who the child runs as. An agent that is not root (only
// in development) can run processes as itself only.
func credential(u *user) (*syscall.Credential, error) {
	if euid := os.Geteuid(); euid != 0 {
		if int(u.UID) != euid {
			return nil, fmt.Errorf("%w: agent runs as uid %d and cannot switch to user %q", errdefs.ErrPermissionDenied, euid, u.Name)
		}
		return nil, nil
	}
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}, nil
}

// startError classifies a failed Start by its errno.
func startError(name string, err error) error {
	var kind error
	switch {
	case errors.Is(err, syscall.ENOENT):
		kind = errdefs.ErrNotFound
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		kind = errdefs.ErrPermissionDenied
	case errors.Is(err, syscall.EAGAIN):
		kind = errdefs.ErrResourceExhausted
	case errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		kind = errdefs.ErrInvalidArgument
	default:
		return fmt.Errorf("starting %s: %w", name, err)
	}
	return fmt.Errorf("%w: starting %s: %w", kind, name, err)
}

// startExitCode is the shell's convention: 127 when the command does not
// exist, 126 when it cannot be run.
func startExitCode(err error) int {
	if errors.Is(err, errdefs.ErrNotFound) {
		return 127
	}
	return 126
}
