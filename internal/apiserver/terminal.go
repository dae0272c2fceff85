package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// The browser terminal: a WebSocket bridged to a login shell on a PTY in
// the sandbox. Binary messages carry terminal bytes both ways; a text
// message {"type":"resize","cols":N,"rows":M} resizes the terminal. While
// it is open the sandbox counts as busy, so it is not paused for idleness.

// terminalProtocol is the WebSocket subprotocol the server answers with.
// Browsers, which cannot set an Authorization header on a WebSocket, send
// their key as a second protocol, bearer.<key> (see authenticate).
const terminalProtocol = "runtools"

type terminalMessage struct {
	Type string `json:"type"`
	Cols uint16 `json:"cols"`
	Rows uint16 `json:"rows"`
}

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
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return invalid("the terminal is a WebSocket: send Upgrade: websocket")
	}
	ag, sb, done, err := s.sandboxes.Use(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	defer done()
	sess, err := ag.Attach(r.Context(), agentapi.AttachRequest{Env: sb.Env, TTY: true, Cols: cols, Rows: rows, Term: "xterm-256color"})
	if err != nil {
		return fmt.Errorf("attaching a terminal: %w", err)
	}
	defer sess.Close()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{terminalProtocol}})
	if err != nil {
		return nil // Accept has answered
	}
	defer c.CloseNow()
	ctx := r.Context()
	go func() { // the shell's output to the browser, then its exit
		buf := make([]byte, 32<<10)
		for {
			n, err := sess.Stdout().Read(buf)
			if n > 0 && c.Write(ctx, websocket.MessageBinary, buf[:n]) != nil {
				return
			}
			if err != nil {
				break
			}
		}
		code, err := waitExit(sess)
		if err != nil {
			c.Close(websocket.StatusInternalError, "the terminal session broke")
			return
		}
		c.Close(websocket.StatusNormalClosure, fmt.Sprintf("exit %d", code))
	}()
	for { // the browser's keys and sizes to the shell
		typ, data, err := c.Read(ctx)
		if err != nil {
			return nil
		}
		if typ == websocket.MessageBinary {
			if _, err := sess.Write(data); err != nil {
				return nil
			}
			continue
		}
		var m terminalMessage
		if json.Unmarshal(data, &m) == nil && m.Type == "resize" && m.Cols > 0 && m.Rows > 0 {
			_ = sess.Resize(m.Cols, m.Rows)
		}
	}
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

// waitExit waits briefly for the exit code of a shell whose output ended.
func waitExit(sess interface{ Wait() (int, error) }) (int, error) {
	type result struct {
		code int
		err  error
	}
	ch := make(chan result, 1)
	go func() { code, err := sess.Wait(); ch <- result{code, err} }()
	select {
	case r := <-ch:
		return r.code, r.err
	case <-time.After(2 * time.Second):
		return -1, nil
	}
}
