package agentclient

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// SFTP opens an SFTP session as user ("" is root) on a new connection to
// the agent, which ctx bounds until the upgrade. The connection carries the
// SFTP protocol (version 3, for example to github.com/pkg/sftp's
// NewClientPipe, or bridged to an SSH "sftp" subsystem); the agent's server
// starts in the user's home, checks access as that user, and ends when the
// connection is closed.
func (c *Client) SFTP(ctx context.Context, user string) (net.Conn, error) {
	q := url.Values{}
	if user != "" {
		q.Set("user", user)
	}
	return c.upgradeConn(ctx, "/sftp", q, agentapi.UpgradeSFTP)
}

// Forward returns a connection to a TCP port on the sandbox's loopback
// (what ssh -L localhost:PORT means), through the agent. Closing its write
// side (CloseWrite) passes the half-close on to the port.
func (c *Client) Forward(ctx context.Context, port int) (net.Conn, error) {
	return c.upgradeConn(ctx, "/forward", url.Values{"port": {strconv.Itoa(port)}}, agentapi.UpgradeForward)
}

// upgradeConn is upgrade with no body, for a protocol that has the
// connection to itself: what the agent sent after the 101 is read first.
func (c *Client) upgradeConn(ctx context.Context, path string, query url.Values, proto string) (net.Conn, error) {
	conn, br, err := c.upgrade(ctx, path, query, proto, nil)
	if err != nil {
		return nil, err
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn is a connection some of whose input was read already.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half-closes the connection, if it can.
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// upgrade dials a new connection to the agent, sends POST path with body
// and the headers that ask to switch to proto, and returns the connection
// once the agent has answered 101. Any other answer is an error of the
// agent's kind. ctx (and responseHeaderTimeout) bound only the handshake.
func (c *Client) upgrade(ctx context.Context, path string, query url.Values, proto string, body []byte) (net.Conn, *bufio.Reader, error) {
	op := http.MethodPost + " " + path
	req, err := c.newRequest(ctx, http.MethodPost, path, query, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", proto)
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	addr := req.URL.Host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	conn, err := c.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, transportError(ctx, op, err)
	}
	// ctx ends the handshake through the AfterFunc only, so that its end
	// is always reported as ctx's error.
	conn.SetDeadline(time.Now().Add(responseHeaderTimeout))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })

	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := c.handshake(conn, br, req)
	if !stop() {
		err = ctx.Err() // the deadline set by the AfterFunc ended the handshake, or will
	}
	if err != nil {
		conn.Close()
		return nil, nil, transportError(ctx, op, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		err := responseError(resp)
		resp.Body.Close()
		conn.Close()
		return nil, nil, err
	}
	if got := resp.Header.Get("Upgrade"); !strings.EqualFold(got, proto) {
		conn.Close()
		return nil, nil, fmt.Errorf("%w: agent %s: switched to %q, want %q", errdefs.ErrUnavailable, op, got, proto)
	}
	conn.SetDeadline(time.Time{})
	return conn, br, nil
}

func (c *Client) handshake(conn net.Conn, br *bufio.Reader, req *http.Request) (*http.Response, error) {
	bw := bufio.NewWriter(conn)
	if err := req.Write(bw); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return http.ReadResponse(br, req)
}
