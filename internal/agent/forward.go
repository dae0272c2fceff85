package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// handleForward connects the caller to a TCP port on the sandbox's
// loopback ("port" query parameter), as ssh -L localhost:PORT expects: a
// dev server listening on localhost only is reached too. After "101
// Switching Protocols" (agentapi.UpgradeForward) the connection carries the
// port's bytes both ways, half-closes included. The agent's own port is
// refused.
func (s *Server) handleForward(w http.ResponseWriter, r *http.Request) error {
	if err := checkUpgrade(r, agentapi.UpgradeForward); err != nil {
		return err
	}
	port, err := strconv.Atoi(r.URL.Query().Get("port"))
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("%w: port %q: want 1-65535", errdefs.ErrInvalidArgument, r.URL.Query().Get("port"))
	}
	if port == agentapi.Port {
		return fmt.Errorf("%w: port %d is the agent's", errdefs.ErrPermissionDenied, port)
	}
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4096))
	up, err := dialLoopback(r, port)
	if err != nil {
		return err
	}
	conn, br, err := hijack(w)
	if err != nil {
		up.Close()
		return err
	}
	untrack, ok := s.startSession(conn, agentapi.UpgradeForward, func() { conn.Close(); up.Close() })
	if ok {
		defer untrack()
		splice(conn, br, up)
	}
	return nil
}

// forwardDialTimeout bounds the agent's connection to the port.
const forwardDialTimeout = 5 * time.Second

// dialLoopback connects to port on 127.0.0.1, or on ::1 if nothing listens
// there.
func dialLoopback(r *http.Request, port int) (net.Conn, error) {
	d := net.Dialer{Timeout: forwardDialTimeout}
	p := strconv.Itoa(port)
	c, err := d.DialContext(r.Context(), "tcp4", net.JoinHostPort("127.0.0.1", p))
	if err == nil {
		return c, nil
	}
	if c6, err6 := d.DialContext(r.Context(), "tcp6", net.JoinHostPort("::1", p)); err6 == nil {
		return c6, nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("%w: nothing listens on port %d in the sandbox", errdefs.ErrUnavailable, port)
	}
	return nil, fmt.Errorf("%w: connecting to port %d in the sandbox: %w", errdefs.ErrUnavailable, port, err)
}

// splice copies between the caller (conn, read through br) and up until
// both directions have ended, passing each half-close on; then it closes
// both.
func splice(conn net.Conn, br *bufio.Reader, up net.Conn) {
	done := make(chan struct{})
	go func() {
		io.Copy(up, br)
		halfClose(up)
		close(done)
	}()
	io.Copy(conn, up)
	halfClose(conn)
	<-done
	conn.Close()
	up.Close()
}

func halfClose(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		return
	}
	c.Close()
}
