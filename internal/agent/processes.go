package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

func (s *Server) handleProcesses(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.procs.list())
}

// handlePids counts the processes in the sandbox: the numeric entries of
// /proc (see countPids), so it stays cheap during a fork bomb.
func (s *Server) handlePids(w http.ResponseWriter, r *http.Request) {
	n, err := countPids("/proc")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, agentapi.Pids{Processes: n})
}

func (s *Server) processFromPath(r *http.Request) (*process, error) {
	pid, err := strconv.Atoi(r.PathValue("pid"))
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("%w: bad pid %q", errdefs.ErrInvalidArgument, r.PathValue("pid"))
	}
	p := s.procs.get(pid)
	if p == nil {
		return nil, fmt.Errorf("%w: no process %d", errdefs.ErrNotFound, pid)
	}
	return p, nil
}

// handleOutput streams a background process's buffered output, then with
// follow=true its live output, then its exit event once it has exited.
// A foreground process's output belongs to its exec stream: 409.
func (s *Server) handleOutput(w http.ResponseWriter, r *http.Request) {
	p, err := s.processFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	follow, err := boolParam(r, "follow")
	if err != nil {
		writeError(w, err)
		return
	}
	if p.out == nil {
		writeError(w, fmt.Errorf("%w: process %d runs in the foreground; its output goes to its exec stream", errdefs.ErrConflict, p.pid))
		return
	}
	ew := newEventWriter(w)
	var seq uint64
	for {
		chunks, next, done, exit, changed := p.out.since(seq)
		for _, c := range chunks {
			if ew.send(agentapi.Event{Type: c.typ, Data: c.data}) != nil {
				return
			}
		}
		seq = next
		if done {
			ew.send(exit)
			return
		}
		if !follow {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

// signalNames holds the names callers use, including every signal name of
// the SSH protocol (RFC 4254, section 6.10), which an attach session passes on.
var signalNames = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT,
	"HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE,
	"ILL": syscall.SIGILL, "PIPE": syscall.SIGPIPE, "SEGV": syscall.SIGSEGV,
	"WINCH": syscall.SIGWINCH, "TSTP": syscall.SIGTSTP,
}

// parseSignal accepts TERM, SIGTERM (any case) or a number from 1 to 64.
func parseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	if sig, ok := signalNames[name]; ok {
		return sig, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 1 && n <= 64 {
		return syscall.Signal(n), nil
	}
	return 0, fmt.Errorf("%w: unknown signal %q", errdefs.ErrInvalidArgument, s)
}

// handleSignal signals the process group of a running process. Signalling
// a process that has exited is a conflict: its pid may have been reused.
func (s *Server) handleSignal(w http.ResponseWriter, r *http.Request) {
	p, err := s.processFromPath(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var req agentapi.SignalRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeError(w, fmt.Errorf("%w: decoding signal request: %w", errdefs.ErrInvalidArgument, err))
		return
	}
	sig, err := parseSignal(req.Signal)
	if err != nil {
		writeError(w, err)
		return
	}
	if p.exitedAt.Load() != 0 {
		writeError(w, fmt.Errorf("%w: process %d has exited", errdefs.ErrConflict, p.pid))
		return
	}
	if err := syscall.Kill(-p.pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			err = fmt.Errorf("%w: process %d has exited", errdefs.ErrConflict, p.pid)
		} else {
			err = fmt.Errorf("signalling process group %d: %w", p.pid, err)
		}
		writeError(w, err)
		return
	}
	s.log.Debug("signalled process", "pid", p.pid, "signal", sig.String())
	w.WriteHeader(http.StatusNoContent)
}

// isPid reports whether a /proc entry is a process's directory.
func isPid(name string) bool {
	return name != "" && strings.Trim(name, "0123456789") == ""
}
