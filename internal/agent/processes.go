package agent

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

func (s *Server) handleProcesses(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.procs.list())
	return nil
}

// handlePids counts the processes in the sandbox: the numeric entries of
// /proc (see countPids), so it stays cheap during a fork bomb.
func (s *Server) handlePids(w http.ResponseWriter, r *http.Request) error {
	n, err := countPids("/proc")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, agentapi.Pids{Processes: n})
	return nil
}

// handleOutput streams a background process's buffered output, then with
// follow=true its live output, then its exit event once it has exited.
// A foreground process's output belongs to its exec stream: 409.
func (s *Server) handleOutput(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	p, follow := q.process(s.procs), q.flag("follow")
	if q.err != nil {
		return q.err
	}
	return p.streamOutput(r.Context(), w, follow)
}

// handleStdin writes the request's body to the stdin of a background
// process started with stdin_open, and with eof=true closes its stdin
// afterwards. It answers once the process has taken all of it (204): a
// process that does not read holds the answer up. A process whose stdin is
// not open to writes (started without stdin_open, closed, exited, or
// running in the foreground) is a conflict.
func (s *Server) handleStdin(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	p, eof := q.process(s.procs), q.flag("eof")
	if q.err != nil {
		return q.err
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, agentapi.MaxStdinBody))
	if err != nil {
		return fmt.Errorf("%w: reading the input (at most %d bytes a request): %w", errdefs.ErrInvalidArgument, agentapi.MaxStdinBody, err)
	}
	if err := p.writeStdin(r.Context(), data, eof); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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
func (s *Server) handleSignal(w http.ResponseWriter, r *http.Request) error {
	q := newParams(r)
	p := q.process(s.procs)
	if q.err != nil {
		return q.err
	}
	var req agentapi.SignalRequest
	if err := decodeRequest(w, r, 4096, "signal", &req); err != nil {
		return err
	}
	sig, err := parseSignal(req.Signal)
	if err != nil {
		return err
	}
	if p.exitedAt.Load() != 0 {
		return fmt.Errorf("%w: process %d has exited", errdefs.ErrConflict, p.pid)
	}
	if err := syscall.Kill(-p.pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("%w: process %d has exited", errdefs.ErrConflict, p.pid)
		}
		return fmt.Errorf("signalling process group %d: %w", p.pid, err)
	}
	s.log.Debug("signalled process", "pid", p.pid, "signal", sig.String())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// countPids counts the numeric entries of the proc directory (see
// countPidEntries).
func countPids(proc string) (int, error) {
	f, err := os.Open(proc)
	if err != nil {
		return 0, fmt.Errorf("counting processes: %w", err)
	}
	defer f.Close()
	n, err := countPidEntries(f)
	if err != nil {
		return 0, fmt.Errorf("counting processes: %w", err)
	}
	return n, nil
}

// isPid reports whether a /proc entry is a process's directory.
func isPid(name string) bool {
	return name != "" && strings.Trim(name, "0123456789") == ""
}
