package agent

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// httpStatus maps an errdefs wire code to an HTTP status. This is the only
// place the agent does so.
func httpStatus(code string) int {
	switch code {
	case "not_found":
		return http.StatusNotFound
	case "invalid_argument":
		return http.StatusBadRequest
	case "conflict", "already_exists":
		return http.StatusConflict
	case "unauthenticated":
		return http.StatusUnauthorized
	case "permission_denied":
		return http.StatusForbidden
	default:
		return http.StatusInternalServerError
	}
}

// fallible is a handler that returns its error for ServeHTTP to answer
// with. It returns nil once it has answered, or taken the connection over.
type fallible func(w http.ResponseWriter, r *http.Request) error

func (h fallible) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, err)
	}
}

// writeError answers with an agentapi.Error whose code is err's kind. The
// kind's own text is dropped from the message because the client adds it
// back when it wraps the kind.
func writeError(w http.ResponseWriter, err error) {
	code := errdefs.Code(err)
	writeJSON(w, httpStatus(code), agentapi.Error{Code: code, Message: errMessage(err)})
}

// errMessage is err's text without the leading name of its kind.
func errMessage(err error) string {
	msg := err.Error()
	if kind := errdefs.FromCode(errdefs.Code(err)); kind != nil {
		msg = strings.TrimPrefix(msg, kind.Error()+": ")
	}
	return msg
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// eventWriter writes an ndjson stream of agentapi.Event and flushes after
// every event so the caller sees output live. After the first write error
// (the client went away) it drops events.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
	err error
}

func newEventWriter(w http.ResponseWriter) *eventWriter {
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return &eventWriter{w: w, rc: http.NewResponseController(w)}
}

func (e *eventWriter) send(ev agentapi.Event) error {
	if e.err != nil {
		return e.err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		e.err = err
		return err
	}
	e.buf = append(append(e.buf[:0], b...), '\n')
	if _, err := e.w.Write(e.buf); err != nil {
		e.err = err
		return err
	}
	switch ev.Type {
	case agentapi.EventStart:
		return nil // see execForeground
	case agentapi.EventExit:
		// The last event: the handler returns next, and net/http then
		// sends it with the end of the stream in a single write.
		return nil
	}
	return e.flush()
}

func (e *eventWriter) flush() error {
	if e.err != nil {
		return e.err
	}
	if err := e.rc.Flush(); err != nil {
		e.err = err
	}
	return e.err
}
