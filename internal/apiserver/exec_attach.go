package apiserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
)

// Exec attach: a command whose stdin streams over a WebSocket while it
// runs (GET /v1/sandboxes/{ref}/exec/attach), as `docker exec -i` or, with
// a TTY, `docker exec -it`. The caller's first message is the command, a
// client.AttachRequest as JSON text; the server answers "start" once the
// agent has it, then carries stdin, controls and output (see bridge.go),
// then "exit" and a normal close. A request that fails gets an "error"
// message with its code and a close with 4000 plus its HTTP status; a
// command that cannot start gets "error" and exit 127 or 126, as exec
// reports it. The sandbox counts as busy while the WebSocket is open.

// attachRequestWait bounds the wait for the command, the first message.
const attachRequestWait = 10 * time.Second

func (s *Server) execAttach(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := identity(ctx)
	ref := r.PathValue("ref")
	if _, err := s.sandboxes.Get(ctx, id.TeamID, ref); err != nil {
		return err
	}
	if !isWebSocket(r) {
		return invalid("exec attach is a WebSocket: send Upgrade: websocket, then the command as the first message, e.g. {\"cmd\":[\"cat\"]}")
	}
	on, err := s.sandboxes.Open(ctx, id.TeamID, ref)
	if err != nil {
		return err
	}
	defer on.Close()
	sb := on.Sandbox()
	c, err := acceptWebSocket(w, r)
	if err != nil {
		return nil // Accept has answered
	}
	defer c.CloseNow()
	req, timeout, err := readAttachRequest(ctx, c)
	if err != nil {
		closeWithError(ctx, s.log, c, err)
		return nil
	}
	sess, err := on.Attach(ctx, req)
	if err != nil {
		closeWithError(ctx, s.log, c, fmt.Errorf("attaching to the command: %w", err))
		return nil
	}
	defer sess.Close()
	if err := sendMessage(ctx, c, client.AttachMessage{Type: client.EventStart}); err != nil {
		return nil
	}
	s.log.Debug("exec attached", "sandbox", sb.ID, "cmd", req.Cmd, "tty", req.TTY)
	b := &bridge{log: s.log, c: c, sess: sess, tagged: true, timeout: timeout}
	b.run(ctx)
	return nil
}

// readAttachRequest reads the command, the WebSocket's first message, and
// checks it as exec checks its request.
func readAttachRequest(ctx context.Context, c *websocket.Conn) (agentapi.AttachRequest, time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, attachRequestWait)
	defer cancel()
	typ, data, err := c.Read(rctx)
	if err != nil {
		return agentapi.AttachRequest{}, 0, invalid("no command within %v: send it as the first message, e.g. {\"cmd\":[\"cat\"]}", attachRequestWait)
	}
	if typ != websocket.MessageText {
		return agentapi.AttachRequest{}, 0, invalid("the first message must be the command as JSON text, e.g. {\"cmd\":[\"cat\"]}")
	}
	var wire client.AttachRequest
	if err := decodeJSON(bytes.NewReader(data), &wire); err != nil {
		return agentapi.AttachRequest{}, 0, err
	}
	er, err := execRequest(client.ExecRequest{Cmd: wire.Cmd, Env: wire.Env, Cwd: wire.Cwd, User: wire.User, TimeoutMS: wire.TimeoutMS})
	if err != nil {
		return agentapi.AttachRequest{}, 0, err
	}
	req := agentapi.AttachRequest{Cmd: er.Cmd, Env: er.Env, Cwd: er.Cwd, User: er.User, TTY: wire.TTY, Cols: wire.Cols, Rows: wire.Rows}
	return req, time.Duration(er.TimeoutMS) * time.Millisecond, nil
}
