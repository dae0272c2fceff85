package apiserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// The desktop in the browser: a WebSocket that carries RFB (the VNC
// protocol) between the browser's VNC client (the dashboard's noVNC) and
// the desktop sandbox's VNC server, through the sandbox's agent. Binary
// messages carry the protocol's bytes both ways, as websockify's do, so
// the page needs no frame of another site. Authenticated as the terminal
// is; while it is open the sandbox counts as busy.

func (s *Server) vnc(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := identity(ctx)
	sb, err := s.sandboxes.Get(ctx, id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if !sb.Desktop {
		return fmt.Errorf("%w: sandbox %s has no desktop: create one with --template desktop", errdefs.ErrConflict, sb.ID)
	}
	if !isWebSocket(r) {
		return invalid("the desktop is a WebSocket: send Upgrade: websocket")
	}
	on, err := s.sandboxes.Open(ctx, id.TeamID, sb.ID)
	if err != nil {
		return err
	}
	defer on.Close()
	up, err := sandbox.Stream(ctx, on, func(ctx context.Context, ag *agentclient.Client) (net.Conn, error) {
		return ag.Forward(ctx, sandbox.DesktopRFBPort)
	})
	if err != nil {
		return fmt.Errorf("reaching the desktop's VNC server: %w", err)
	}
	defer up.Close()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsProtocol}})
	if err != nil {
		return nil // Accept has answered
	}
	defer c.CloseNow()
	browser := websocket.NetConn(ctx, c, websocket.MessageBinary)
	ended := make(chan struct{}, 2)
	go func() { io.Copy(browser, up); ended <- struct{}{} }()
	go func() { io.Copy(up, browser); ended <- struct{}{} }()
	<-ended // the browser or the desktop left, or the connection broke: end both
	up.Close()
	c.Close(websocket.StatusNormalClosure, "the desktop connection ended")
	<-ended
	return nil
}
