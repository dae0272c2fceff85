package sshgate

import (
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// directTCPIP is the payload of a "direct-tcpip" channel open (RFC 4254
// section 7.2), what ssh -L sends for each forwarded connection.
type directTCPIP struct {
	Host       string
	Port       uint32
	OriginHost string
	OriginPort uint32
}

// serveForward connects a "direct-tcpip" channel to a port inside the
// sandbox. Only the sandbox itself can be reached (localhost, or its own
// ID or login name), and never a reserved port.
func (c *connState) serveForward(ctx context.Context, nch ssh.NewChannel) {
	var d directTCPIP
	if err := ssh.Unmarshal(nch.ExtraData(), &d); err != nil {
		nch.Reject(ssh.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	log := c.log.With("port", d.Port)
	if !c.isSandboxHost(d.Host) {
		log.DebugContext(ctx, "refused a port forward to another host", "host", truncate(d.Host, 255))
		nch.Reject(ssh.Prohibited, "only ports of the sandbox itself (localhost) can be forwarded")
		return
	}
	if d.Port == 0 || d.Port > 65535 || c.g.reserved[int(d.Port)] {
		log.InfoContext(ctx, "refused a port forward to a reserved port")
		nch.Reject(ssh.Prohibited, fmt.Sprintf("port %d cannot be forwarded", d.Port))
		return
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := c.sb.Dial(dctx, int(d.Port))
	cancel()
	if err != nil {
		log.DebugContext(ctx, "port forward: dialling in the sandbox", "err", err)
		nch.Reject(ssh.ConnectionFailed, fmt.Sprintf("nothing answers on port %d in the sandbox", d.Port))
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		conn.Close()
		return
	}
	go func() {
		ssh.DiscardRequests(reqs)
		conn.Close() // the channel is closed: unblock the copy from conn
	}()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	done := make(chan struct{})
	go func() {
		io.Copy(conn, ch)
		closeWrite(conn)
		close(done)
	}()
	io.Copy(ch, conn)
	ch.CloseWrite()
	<-done
	ch.Close()
	conn.Close()
}

// isSandboxHost reports whether host, from a forward request, names the
// sandbox itself.
func (c *connState) isSandboxHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return host == strings.ToLower(c.login.SandboxID) || host == strings.ToLower(c.login.user)
}
