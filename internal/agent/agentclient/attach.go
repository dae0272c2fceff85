package agentclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

const (
	// stdinFrame is the most stdin one frame carries.
	stdinFrame = 32 << 10
	// streamBuffer is how much of one output stream waits for its reader
	// before the session stops reading from the agent.
	streamBuffer = 1 << 20
	// frameHeader is a frame's type byte and big-endian uint32 length.
	frameHeader = 5
)

// AttachSession is one process attached through POST /attach: its stdin,
// stdout and stderr (merged into stdout on a TTY), window size, signals and
// exit code, all on one connection of its own. Its methods are safe for
// concurrent use.
//
// One goroutine reads the agent's frames into a buffer per output stream.
// Up to 1 MiB of a stream waits for its reader; beyond that the session
// stops reading from the agent until that stream is read, which holds up
// the other stream and the exit code too, and in turn the process's
// output. Read both streams concurrently (or read the one you do not need
// into io.Discard) unless the process writes little to one of them.
type AttachSession struct {
	conn           net.Conn
	wmu            sync.Mutex // one frame at a time to the agent
	stdout, stderr *stream
	done           chan struct{} // closed once exitCode and err are set
	exitCode       int
	err            error
	closeOnce      sync.Once

	mu       sync.Mutex
	startErr string
	closed   bool // by Close
}

// Attach starts req's process in the sandbox and attaches to it. It dials a
// new connection to the agent (attach sessions never share one), which
// ctx bounds until the agent has agreed to the upgrade; after that, the
// session lasts until the process exits or Close. A process that cannot
// start is not an error here: see Wait and StartError.
func (c *Client) Attach(ctx context.Context, req agentapi.AttachRequest) (*AttachSession, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding attach request: %w", errdefs.ErrInvalidArgument, err)
	}
	conn, br, err := c.upgrade(ctx, "/attach", nil, agentapi.UpgradeAttach, body)
	if err != nil {
		return nil, err
	}
	s := &AttachSession{
		conn:   conn,
		stdout: newStream(),
		stderr: newStream(),
		done:   make(chan struct{}),
	}
	go s.readLoop(br)
	return s, nil
}

// Stdout reads the process's standard output (on a TTY, all of the
// terminal's output). It returns io.EOF after the last output of a process
// that exited, and an error if the session broke first or was closed.
func (s *AttachSession) Stdout() io.Reader { return s.stdout }

// Stderr reads the process's standard error; on a TTY it has none.
func (s *AttachSession) Stderr() io.Reader { return s.stderr }

// Write sends p to the process's stdin. It blocks while the process does
// not read its input.
func (s *AttachSession) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), stdinFrame)]
		if err := s.send(agentapi.FrameStdin, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// CloseStdin ends the process's input, as the end of a file would. A TTY
// has no end of input: there the agent ignores it; send ^D (0x04) or an
// exit command instead.
func (s *AttachSession) CloseStdin() error {
	return s.send(agentapi.FrameEOF, nil)
}

// Resize changes the terminal's size; the process gets SIGWINCH. Without a
// TTY the agent ignores it.
func (s *AttachSession) Resize(cols, rows uint16) error {
	var b [4]byte
	binary.BigEndian.PutUint16(b[:], cols)
	binary.BigEndian.PutUint16(b[2:], rows)
	return s.send(agentapi.FrameResize, b[:])
}

// Signal sends a signal (TERM, INT, HUP, QUIT, KILL, USR1, USR2, WINCH, ...
// or a number) to the process group, or on a TTY to the terminal's
// foreground process group. The agent ignores unknown names and signals
// after the process exited.
func (s *AttachSession) Signal(name string) error {
	return s.send(agentapi.FrameSignal, []byte(name))
}

// Wait waits for the process to exit and returns its exit code: 128+n after
// death by signal n, 127 or 126 when it could not start (StartError then
// says why). err is set when the session broke or was closed before the
// agent sent the exit code.
func (s *AttachSession) Wait() (exitCode int, err error) {
	<-s.done
	return s.exitCode, s.err
}

// StartError is why the process could not start, or "" if it started (or
// the agent has not said yet; it is final once Wait has returned).
func (s *AttachSession) StartError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startErr
}

// Close closes the connection and discards output not read yet. The agent
// then ends a process that is still running: it kills its process group,
// or on a TTY hangs up (SIGHUP, then SIGKILL 2 s later).
//
// The connection is reset rather than closed in order: input the process
// has not read may fill the agent's receive window, and an orderly close
// would wait behind it, unseen by the agent.
func (s *AttachSession) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if tc, ok := s.conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		s.conn.Close()
		s.stdout.close()
		s.stderr.close()
	})
	return nil
}

func (s *AttachSession) send(typ byte, payload []byte) error {
	var hdr [frameHeader]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	bufs := net.Buffers{hdr[:], payload}
	s.wmu.Lock()
	_, err := bufs.WriteTo(s.conn)
	s.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("sending to attached process: %w", err)
	}
	return nil
}

// readLoop demultiplexes the agent's frames until FrameExit or the end of
// the connection, then closes it: the agent waits for that to close its
// side without losing data.
func (s *AttachSession) readLoop(br *bufio.Reader) {
	code, err := -1, error(nil)
	var buf []byte
loop:
	for {
		typ, payload, rerr := readFrame(br, &buf)
		if rerr != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				err = fmt.Errorf("attach session closed: %w", net.ErrClosed)
			} else {
				err = fmt.Errorf("%w: attach stream ended before the exit code: %w", errdefs.ErrUnavailable, rerr)
			}
			break
		}
		switch typ {
		case agentapi.FrameStdout:
			s.stdout.write(payload)
		case agentapi.FrameStderr:
			s.stderr.write(payload)
		case agentapi.FrameError:
			s.mu.Lock()
			s.startErr = string(payload)
			s.mu.Unlock()
		case agentapi.FrameExit:
			if len(payload) != 4 {
				err = fmt.Errorf("%w: exit frame of %d bytes", errdefs.ErrUnavailable, len(payload))
			} else {
				code = int(int32(binary.BigEndian.Uint32(payload)))
			}
			break loop
		}
	}
	s.conn.Close()
	end := io.EOF
	if err != nil {
		end = err
	}
	s.stdout.finish(end)
	s.stderr.finish(end)
	s.exitCode, s.err = code, err
	close(s.done)
}

// stream buffers one output stream between the session's reader goroutine
// and the caller.
type stream struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    bytes.Buffer
	err    error // returned once buf is empty: io.EOF or why the stream broke
	closed bool  // Close was called: data is dropped
}

func newStream() *stream {
	s := &stream{}
	s.cond.L = &s.mu
	return s
}

// write appends p, first waiting while streamBuffer bytes are unread.
func (s *stream) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.buf.Len() >= streamBuffer && !s.closed {
		s.cond.Wait()
	}
	if !s.closed {
		s.buf.Write(p)
		s.cond.Broadcast()
	}
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.buf.Len() == 0 && s.err == nil {
		s.cond.Wait()
	}
	if s.buf.Len() > 0 {
		n, _ := s.buf.Read(p)
		s.cond.Broadcast()
		return n, nil
	}
	return 0, s.err
}

// finish makes Read return err once the data is read.
func (s *stream) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.cond.Broadcast()
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.buf.Reset()
	if s.err == nil {
		s.err = fmt.Errorf("attach session closed: %w", net.ErrClosed)
	}
	s.cond.Broadcast()
}

var errFrameTooLarge = errors.New("frame larger than agentapi.MaxFrame")

// readFrame reads one frame into *buf, grown as needed; the payload is
// valid until the next call.
func readFrame(r io.Reader, buf *[]byte) (typ byte, payload []byte, err error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > agentapi.MaxFrame {
		return 0, nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	payload = (*buf)[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

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
	conn, br, err := c.upgrade(ctx, "/sftp", q, agentapi.UpgradeSFTP, nil)
	if err != nil {
		return nil, err
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// Forward returns a connection to a TCP port on the sandbox's loopback
// (what ssh -L localhost:PORT means), through the agent. Closing its write
// side (CloseWrite) passes the half-close on to the port.
func (c *Client) Forward(ctx context.Context, port int) (net.Conn, error) {
	conn, br, err := c.upgrade(ctx, "/forward", url.Values{"port": {strconv.Itoa(port)}}, agentapi.UpgradeForward, nil)
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
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: building request %s: %w", errdefs.ErrInvalidArgument, op, err)
	}
	req.Header.Set("Authorization", c.auth)
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
