package sshgate

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

// serveConn runs one SSH connection: handshake and authentication, Open,
// then its channels until either side closes it or ctx ends.
func (g *Gateway) serveConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	accepted := false
	defer func() {
		if g.obs != nil && !accepted {
			g.obs.Refused()
		}
	}()

	conn, chans, reqs, ok := g.handshake(ctx, nc)
	if !ok {
		return
	}
	defer conn.Close()

	log := g.log.With("user", conn.User(), "source", nc.RemoteAddr().String(), "conn", hex.EncodeToString(conn.SessionID()[:6]))
	l, err := loginOf(conn)
	if err != nil {
		log.ErrorContext(ctx, "SSH login refused after authentication", "err", err)
		return
	}
	log = log.With("sandbox", l.SandboxID)
	start := time.Now()
	attrs := []any{"team", l.TeamID, "method", l.method, "client", string(conn.ClientVersion())}
	if l.key != "" {
		attrs = append(attrs, "key", l.key)
	}
	log.InfoContext(ctx, "SSH login", attrs...)

	go rejectGlobalRequests(reqs, log)
	go g.keepAliveLoop(conn, log)

	openCtx, cancel := context.WithTimeout(ctx, openTimeout)
	sb, done, err := g.backend.Open(openCtx, l.Target)
	cancel()
	if err != nil {
		log.WarnContext(ctx, "opening the sandbox for SSH", "err", err)
		// Tell the client why on the channels it opens, then hang up.
		msg := openFailure(err)
		time.AfterFunc(openFailureGrace, func() { conn.Close() })
		for nch := range chans {
			nch.Reject(ssh.ConnectionFailed, msg)
		}
		log.InfoContext(ctx, "SSH connection ended", "duration", time.Since(start).Round(time.Millisecond))
		return
	}
	accepted = true
	if g.obs != nil {
		g.obs.Accepted()
		defer g.obs.Closed()
	}
	c := &connState{g: g, log: log, sb: sb, login: l}
	c.serveChannels(ctx, chans)
	if done != nil {
		done()
	}
	log.InfoContext(ctx, "SSH connection ended", "duration", time.Since(start).Round(time.Millisecond))
}

// handshake runs the SSH handshake and authentication of nc within
// g.loginGrace, while no more than the allowed number of connections from
// its source are at it. It logs why it failed.
func (g *Gateway) handshake(ctx context.Context, nc net.Conn) (*ssh.ServerConn, <-chan ssh.NewChannel, <-chan *ssh.Request, bool) {
	source := nc.RemoteAddr().String()
	startupKey := sourceKey(nc.RemoteAddr())
	if !g.startups.acquire(startupKey) {
		g.log.WarnContext(ctx, "too many SSH connections authenticating; dropping one", "source", source)
		return nil, nil, nil, false
	}
	nc.SetDeadline(time.Now().Add(g.loginGrace))
	conn, chans, reqs, err := ssh.NewServerConn(nc, g.serverConfig(ctx))
	g.startups.release(startupKey)
	if err != nil {
		g.log.DebugContext(ctx, "SSH handshake or authentication failed", "source", source, "err", err)
		return nil, nil, nil, false
	}
	nc.SetDeadline(time.Time{})
	return conn, chans, reqs, true
}

// serveChannels serves the channels the client opens until the connection
// ends (chans closes), then waits for those still open to end.
func (c *connState) serveChannels(ctx context.Context, chans <-chan ssh.NewChannel) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for nch := range chans { // closed when the connection ends
		nch = c.g.counted(nch)
		switch nch.ChannelType() {
		case "session":
			admit(&wg, &c.sessions, maxSessions, nch, "sessions", func() { c.serveSession(ctx, nch) })
		case "direct-tcpip":
			admit(&wg, &c.forwards, maxForwards, nch, "forwarded connections", func() { c.serveForward(ctx, nch) })
		default:
			nch.Reject(ssh.UnknownChannelType, "unsupported channel type "+nch.ChannelType())
		}
	}
	cancel()
	wg.Wait()
}

// admit serves a channel in wg unless open already counts limit channels of
// its kind, and then refuses it. open counts it while it is served.
func admit(wg *sync.WaitGroup, open *atomic.Int32, limit int32, nch ssh.NewChannel, kind string, serve func()) {
	if open.Add(1) > limit {
		open.Add(-1)
		nch.Reject(ssh.ResourceShortage, "too many "+kind+" on this connection")
		return
	}
	wg.Go(func() {
		defer open.Add(-1)
		serve()
	})
}

// connState is what the channels of one connection share.
type connState struct {
	g     *Gateway
	log   *slog.Logger
	sb    Sandbox
	login login

	sessions, forwards atomic.Int32
}

// openFailure is what a client is told when its sandbox, or a process or
// stream in it, cannot be opened: the kind of error, not its details.
func openFailure(err error) string {
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return "sandbox not found"
	case errors.Is(err, errdefs.ErrConflict):
		return "sandbox is not running"
	case errors.Is(err, errdefs.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "sandbox unavailable, try again"
	case errors.Is(err, errdefs.ErrResourceExhausted):
		return "resource limit reached"
	}
	return "internal error"
}

// rejectGlobalRequests answers the connection's global requests: none is
// supported, remote forwarding (ssh -R, "tcpip-forward") included.
func rejectGlobalRequests(reqs <-chan *ssh.Request, log *slog.Logger) {
	for req := range reqs {
		if req.Type == "tcpip-forward" {
			log.Debug("refused a remote port forward (ssh -R): not supported")
		}
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
}

// keepAliveLoop sends keepalive@openssh.com every g.keepAlive and closes
// the connection when g.keepAliveMax of them in a row went unanswered. Any
// answer counts: clients refuse requests they do not know.
func (g *Gateway) keepAliveLoop(conn *ssh.ServerConn, log *slog.Logger) {
	closed := make(chan struct{})
	go func() {
		conn.Wait()
		close(closed)
	}()
	t := time.NewTicker(g.keepAlive)
	defer t.Stop()
	var pending atomic.Bool
	missed := 0
	for {
		select {
		case <-closed:
			return
		case <-t.C:
		}
		if pending.Load() {
			if missed++; missed >= g.keepAliveMax {
				log.Info("SSH client stopped answering keep-alives; closing the connection", "missed", missed)
				conn.Close()
				return
			}
			continue
		}
		missed = 0
		pending.Store(true)
		go func() {
			// Returns when the client answers or the connection closes.
			if _, _, err := conn.SendRequest("keepalive@openssh.com", true, nil); err == nil {
				pending.Store(false)
			}
		}()
	}
}

// temporaryAcceptError reports whether Accept may work if tried again.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED)
}
