package apiserver

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// The browser terminal: a WebSocket bridged to a login shell on a PTY in
// the sandbox. Binary messages carry terminal bytes both ways; a text
// message {"type":"resize","cols":N,"rows":M} resizes the terminal. While
// it is open the sandbox counts as busy, so it is not paused for idleness.
// See bridge.go for the carrying.

func (s *Server) terminal(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	cols, err := sizeParam(r, "cols", 80)
	if err != nil {
		return err
	}
	rows, err := sizeParam(r, "rows", 24)
	if err != nil {
		return err
	}
	if _, err := s.sandboxes.Get(r.Context(), id.TeamID, r.PathValue("ref")); err != nil {
		return err
	}
	if !isWebSocket(r) {
		return invalid("the terminal is a WebSocket: send Upgrade: websocket")
	}
	on, err := s.session(r)
	if err != nil {
		return err
	}
	defer on.Close()
	sess, err := on.Attach(r.Context(), agentapi.AttachRequest{TTY: true, Cols: cols, Rows: rows, Term: "xterm-256color"})
	if err != nil {
		return fmt.Errorf("attaching a terminal: %w", err)
	}
	defer sess.Close()
	c, err := acceptWebSocket(w, r)
	if err != nil {
		return nil // Accept has answered
	}
	defer c.CloseNow()
	b := &bridge{log: s.log, c: c, sess: sess}
	b.run(r.Context())
	return nil
}

// sizeParam reads a terminal dimension from the query.
func sizeParam(r *http.Request, name string, def uint16) (uint16, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil || n == 0 {
		return 0, invalid("%s must be a number from 1 to 65535, got %q", name, v)
	}
	return uint16(n), nil
}
