package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// stdinChunk is the most stdin one message carries.
const stdinChunk = 32 << 10

// Session is a command attached through Attach: its stdin streams from
// Write while it runs. Its output goes to the writers of the
// StreamOptions given to Attach. Its methods are safe for concurrent use.
type Session struct {
	conn   *websocket.Conn
	opts   StreamOptions
	ctx    context.Context // ends with Close
	cancel context.CancelFunc

	done     chan struct{} // closed once exitCode and err are set
	exitCode int
	err      error
}

// Attach runs a command in the sandbox with its stdin, window size and
// signals under the caller's control, over a WebSocket (GET
// /v1/sandboxes/{ref}/exec/attach), like `docker exec -i` (`-it` with
// req.TTY). Output goes to opts as it comes; opts.OnEvent sees the start,
// error and exit events. ctx bounds the call until the command is handed
// to the sandbox; after that the session lasts until the command exits or
// Close. A command that cannot start is not an error here: Wait returns
// 127 or 126 and OnEvent gets an error event that says why.
//
// The output is written from one goroutine; a slow writer holds up the
// command's output, not its input.
func (c *Client) Attach(ctx context.Context, ref string, req AttachRequest, opts StreamOptions) (*Session, error) {
	u := *c.base
	u.Path = c.base.Path + sandboxPath(ref, "exec", "attach")
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.key)
	h.Set("User-Agent", "runtools-go-client")
	conn, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: h, Subprotocols: []string{"runtools"}})
	if err != nil {
		if resp != nil && resp.StatusCode >= 300 {
			return nil, decodeError(resp)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: cannot reach runtools server at %s: %v (is `runtools server` running? check %s)", ErrUnavailable, c.base, err, EnvURL)
	}
	conn.SetReadLimit(1 << 20)
	s := &Session{conn: conn, opts: opts, done: make(chan struct{})}
	if err := s.start(ctx, req); err != nil {
		conn.CloseNow()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.readLoop()
	return s, nil
}

// Attach runs a command attached to the caller; see Client.Attach.
func (s *Sandbox) Attach(ctx context.Context, req AttachRequest, opts StreamOptions) (*Session, error) {
	return s.c.Attach(ctx, s.ref(), req, opts)
}

// start sends the command and waits for the server to take it.
func (s *Session) start(ctx context.Context, req AttachRequest) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding the command: %w", err)
	}
	if err := s.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return s.broke(ctx, err)
	}
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			return s.broke(ctx, err)
		}
		if typ != websocket.MessageText {
			continue
		}
		var m AttachMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%w: decoding a message of the server: %w", ErrUnavailable, err)
		}
		switch m.Type {
		case EventStart:
			s.event(Event{Type: EventStart})
			return nil
		case EventError:
			return s.messageError(ctx, m)
		}
	}
}

// messageError is the error a server's error message reports; the close
// that follows it carries the HTTP status (4000 plus the status).
func (s *Session) messageError(ctx context.Context, m AttachMessage) error {
	_, _, err := s.conn.Read(ctx)
	st := int(websocket.CloseStatus(err)) - closeError
	if st < 400 || st > 599 {
		st = 0
	}
	return &APIError{Status: st, Code: m.Code, Message: m.Message}
}

// closeError plus an HTTP status is the close code of a failed request.
const closeError = 4000

// broke turns a failed read or write into the error to report.
func (s *Session) broke(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: the attach session ended before the command did: %w", ErrUnavailable, err)
}

func (s *Session) event(ev Event) {
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(ev)
	}
}

// readLoop writes the output to the writers until the exit message, then
// waits for the server's close.
func (s *Session) readLoop() {
	code, err := -1, error(nil)
	defer func() {
		s.exitCode, s.err = code, err
		close(s.done)
	}()
	for {
		typ, data, rerr := s.conn.Read(s.ctx)
		if rerr != nil {
			err = s.broke(s.ctx, rerr)
			if s.ctx.Err() != nil {
				err = fmt.Errorf("attach session closed: %w", net.ErrClosed)
			}
			return
		}
		if typ == websocket.MessageBinary {
			if len(data) > 0 {
				s.write(data[0], data[1:])
			}
			continue
		}
		var m AttachMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case EventError:
			if m.Code != "" { // the session failed, not the command
				err = s.messageError(s.ctx, m)
				return
			}
			s.event(Event{Type: EventError, Message: m.Message})
		case EventExit:
			if m.ExitCode != nil {
				code = *m.ExitCode
			}
			s.event(Event{Type: EventExit, ExitCode: m.ExitCode, TimedOut: m.TimedOut})
			s.conn.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

// write passes output to its writer. A writer that fails gets no more.
func (s *Session) write(stream byte, p []byte) {
	var w *io.Writer
	typ := EventStdout
	switch stream {
	case StreamStdout:
		w = &s.opts.Stdout
	case StreamStderr:
		w, typ = &s.opts.Stderr, EventStderr
	default:
		return
	}
	s.event(Event{Type: typ, Data: p})
	if *w == nil {
		return
	}
	if _, err := (*w).Write(p); err != nil {
		*w = nil
	}
}

// Write sends p to the command's stdin. It blocks while the command does
// not read its input.
func (s *Session) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), stdinChunk)]
		if err := s.conn.Write(s.ctx, websocket.MessageBinary, chunk); err != nil {
			return n, s.broke(s.ctx, err)
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// CloseStdin ends the command's input, as the end of a file would. On a
// TTY there is no end of input: send ^D (0x04) or an exit command instead.
func (s *Session) CloseStdin() error { return s.control(AttachMessage{Type: AttachEOF}) }

// Resize changes the terminal's size; the command gets SIGWINCH. Without a
// TTY it does nothing.
func (s *Session) Resize(cols, rows uint16) error {
	return s.control(AttachMessage{Type: AttachResize, Cols: cols, Rows: rows})
}

// Signal sends a signal (TERM, INT, HUP, KILL, ... or a number) to the
// command's process group, or on a TTY to the terminal's foreground
// process group. Unknown names are ignored.
func (s *Session) Signal(name string) error {
	return s.control(AttachMessage{Type: AttachSignal, Signal: name})
}

func (s *Session) control(m AttachMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding a message: %w", err)
	}
	if err := s.conn.Write(s.ctx, websocket.MessageText, data); err != nil {
		return s.broke(s.ctx, err)
	}
	return nil
}

// Wait waits for the command to exit and returns its exit code: 124 after
// its timeout, 128+n after death by signal n, 127 or 126 when it could not
// start. err is set when the session broke or was closed first.
func (s *Session) Wait() (exitCode int, err error) {
	<-s.done
	return s.exitCode, s.err
}

// Close ends the session. A command still running is killed (on a TTY,
// hung up on).
func (s *Session) Close() error {
	s.cancel()
	s.conn.CloseNow()
	<-s.done
	return nil
}
