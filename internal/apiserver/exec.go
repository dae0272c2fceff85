package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

// maxTimeoutMS bounds a command's timeout: one day.
const maxTimeoutMS = 24 * 60 * 60 * 1000

func execRequest(req client.ExecRequest) (agentapi.ExecRequest, error) {
	if len(req.Cmd) == 0 || req.Cmd[0] == "" {
		return agentapi.ExecRequest{}, invalid("cmd must name a program, e.g. [\"sh\", \"-c\", \"echo hi\"]")
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > maxTimeoutMS {
		return agentapi.ExecRequest{}, invalid("timeout_ms must be between 0 (none) and %d, got %d", maxTimeoutMS, req.TimeoutMS)
	}
	if req.Cwd != "" && !strings.HasPrefix(req.Cwd, "/") {
		return agentapi.ExecRequest{}, invalid("cwd must be an absolute path, got %q", req.Cwd)
	}
	if req.StdinOpen && len(req.Stdin) > 0 {
		return agentapi.ExecRequest{}, invalid("stdin and stdin_open do not go together: send the first input with POST /v1/sandboxes/{ref}/processes/{pid}/stdin")
	}
	if err := checkArgs(req.Cmd, req.Env); err != nil {
		return agentapi.ExecRequest{}, err
	}
	return agentapi.ExecRequest{
		Cmd: req.Cmd, Env: req.Env, Cwd: req.Cwd, User: req.User, TimeoutMS: req.TimeoutMS,
		Stdin: req.Stdin, Background: req.Background, StdinOpen: req.StdinOpen,
	}, nil
}

// Linux's bounds on what a program starts with: one argument or variable
// (MAX_ARG_STRLEN), and all of them with their pointers (ARG_MAX with the
// default 8 MiB stack).
const (
	maxArgBytes  = 128 << 10
	maxArgsBytes = 2 << 20
)

// checkArgs refuses a command the kernel would refuse with E2BIG, saying
// so, rather than letting it fail in the sandbox with a less clear error.
func checkArgs(cmd []string, env map[string]string) error {
	total := 0
	for i, a := range cmd {
		if len(a) >= maxArgBytes {
			return invalid("argument list too long: argument %d is %d bytes, and one may be %d at most: pass large data through stdin or a file", i, len(a), maxArgBytes-1)
		}
		total += len(a) + 1 + 8
	}
	for k, v := range env {
		if len(k)+1+len(v) >= maxArgBytes {
			return invalid("argument list too long: variable %s is %d bytes, and one may be %d at most", k, len(k)+1+len(v), maxArgBytes-1)
		}
		total += len(k) + 1 + len(v) + 1 + 8
	}
	if total > maxArgsBytes {
		return invalid("argument list too long: the command and its variables take %d bytes, and a program may start with %d at most: pass large data through stdin or a file", total, maxArgsBytes)
	}
	return nil
}

func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/x-ndjson")
}

// eventWriter writes NDJSON events, sending headers with the first one so
// an error before any output still becomes a proper error answer.
type eventWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	closed  bool
	late    *time.Timer // flushes a held-back start event
}

// startFlushDelay is how long a start event may wait for the next event: a
// short command's start and exit then leave in one write.
const startFlushDelay = 25 * time.Millisecond

func newEventWriter(w http.ResponseWriter) *eventWriter {
	return &eventWriter{w: w, rc: http.NewResponseController(w)}
}

func (e *eventWriter) write(ev agentapi.Event) error {
	switch ev.Type {
	case agentapi.EventStart:
		return e.writeLine(ev, false)
	case agentapi.EventExit:
		// The last event: net/http sends it with the end of the stream
		// when the handler returns, in one write.
		return e.writeLine(ev, false)
	}
	return e.writeLine(ev, true)
}

// writeValue writes one NDJSON line and flushes it.
func (e *eventWriter) writeValue(v any) error { return e.writeLine(v, true) }

func (e *eventWriter) writeLine(v any, flush bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started {
		e.w.Header().Set("Content-Type", "application/x-ndjson")
		e.w.Header().Set("X-Content-Type-Options", "nosniff")
		e.w.WriteHeader(http.StatusOK)
		e.started = true
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if _, err := e.w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("client went away: %w", err)
	}
	if !flush {
		if e.late == nil {
			e.late = time.AfterFunc(startFlushDelay, e.lateFlush)
		} else {
			e.late.Reset(startFlushDelay)
		}
		return nil
	}
	if e.late != nil {
		e.late.Stop()
	}
	return e.rc.Flush()
}

func (e *eventWriter) lateFlush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		_ = e.rc.Flush()
	}
}

// close ends the writer's use of the response; call it before the handler returns.
func (e *eventWriter) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.late != nil {
		e.late.Stop()
	}
}

// fail reports an error: as an answer if nothing was sent yet, else as a
// last error event in the stream.
func (e *eventWriter) fail(err error) error {
	if err == nil || !e.started {
		return err
	}
	_ = e.write(agentapi.Event{Type: agentapi.EventError, Code: errdefs.Code(err), Message: err.Error()})
	return nil
}

func (s *Server) exec(w http.ResponseWriter, r *http.Request) error {
	var wire client.ExecRequest
	if err := decode(w, r, &wire); err != nil {
		return err
	}
	if wire.Background {
		return invalid("background commands go to POST /v1/sandboxes/{ref}/processes")
	}
	if wire.StdinOpen {
		return invalid("stdin_open is for background processes (POST /v1/sandboxes/{ref}/processes); to stream stdin to a command in the foreground, use the WebSocket GET /v1/sandboxes/{ref}/exec/attach")
	}
	req, err := execRequest(wire)
	if err != nil {
		return err
	}
	id := identity(r.Context())
	ref := r.PathValue("ref")
	if wantsStream(r) {
		ew := newEventWriter(w)
		defer ew.close()
		return ew.fail(s.sandboxes.Exec(r.Context(), id.TeamID, ref, req, ew.write))
	}
	res := client.ExecResult{Stdout: []byte{}, Stderr: []byte{}}
	err = s.sandboxes.Exec(r.Context(), id.TeamID, ref, req, func(ev agentapi.Event) error {
		switch ev.Type {
		case agentapi.EventStdout:
			res.Stdout = append(res.Stdout, ev.Data...)
		case agentapi.EventStderr:
			res.Stderr = append(res.Stderr, ev.Data...)
		case agentapi.EventError:
			res.Error = ev.Message
		case agentapi.EventExit:
			if ev.ExitCode != nil {
				res.ExitCode = *ev.ExitCode
			}
			res.TimedOut = ev.TimedOut
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) startProcess(w http.ResponseWriter, r *http.Request) error {
	var wire client.ExecRequest
	if err := decode(w, r, &wire); err != nil {
		return err
	}
	req, err := execRequest(wire)
	if err != nil {
		return err
	}
	req.Background = true
	pid, err := s.sandboxes.Start(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, agentapi.StartResponse{PID: pid})
}

func (s *Server) listProcesses(w http.ResponseWriter, r *http.Request) error {
	return s.agentCall(r, func(ctx context.Context, ag *agentclient.Client) error {
		procs, err := ag.Processes(ctx)
		if err != nil {
			return err
		}
		return writeList(w, "processes", procs, same)
	})
}

func pidParam(r *http.Request) (int, error) {
	pid, err := strconv.Atoi(r.PathValue("pid"))
	if err != nil || pid <= 0 {
		return 0, invalid("process ID must be a positive number, got %q", r.PathValue("pid"))
	}
	return pid, nil
}

func (s *Server) processOutput(w http.ResponseWriter, r *http.Request) error {
	pid, err := pidParam(r)
	if err != nil {
		return err
	}
	follow, err := boolParam(r, "follow")
	if err != nil {
		return err
	}
	return s.agentCall(r, func(ctx context.Context, ag *agentclient.Client) error {
		ew := newEventWriter(w)
		defer ew.close()
		err := ag.Output(ctx, pid, follow, ew.write)
		if err == nil && !ew.started {
			ew.w.Header().Set("Content-Type", "application/x-ndjson")
			ew.w.WriteHeader(http.StatusOK)
		}
		return ew.fail(err)
	})
}

func (s *Server) signalProcess(w http.ResponseWriter, r *http.Request) error {
	pid, err := pidParam(r)
	if err != nil {
		return err
	}
	var req agentapi.SignalRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	return s.agentCall(r, func(ctx context.Context, ag *agentclient.Client) error {
		return noContent(w, ag.Signal(ctx, pid, req.Signal))
	})
}
