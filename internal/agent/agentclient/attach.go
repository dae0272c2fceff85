package agentclient

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

const (
	// stdinFrame is the most stdin one frame carries.
	stdinFrame = 32 << 10
	// streamBuffer is how much of one output stream waits for its reader
	// before the session stops reading from the agent.
	streamBuffer = 1 << 20
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
	body, err := encodeJSON("attach request", req)
	if err != nil {
		return nil, err
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
	hdr := agentapi.FrameHeader(typ, len(payload))
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
		typ, payload, rerr := agentapi.ReadFrame(br, &buf)
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
