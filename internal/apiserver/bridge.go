package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

// Bridging a WebSocket to a process attached through the agent, shared by
// the browser terminal and exec attach. Binary messages from the caller
// are stdin; text messages are client.AttachMessage controls (resize, eof,
// signal). The process's output goes back as binary messages: raw on the
// terminal, after a stream byte (client.StreamStdout, StreamStderr) on
// exec attach, which also reports the exit as a text message.

// attachSession is what a bridge needs of an agent attach session.
type attachSession interface {
	io.Writer
	Stdout() io.Reader
	Stderr() io.Reader
	CloseStdin() error
	Resize(cols, rows uint16) error
	Signal(name string) error
	Wait() (exitCode int, err error)
	StartError() string
	Close() error
}

var _ attachSession = (*agentclient.AttachSession)(nil)

const (
	// wsProtocol is the WebSocket subprotocol the server answers with.
	// Browsers, which cannot set an Authorization header on a WebSocket,
	// send their key as a second protocol, bearer.<key> (see authenticate).
	wsProtocol = "runtools"
	// wsReadLimit bounds one message from the caller.
	wsReadLimit = 1 << 20
	// outputChunk is the most output one message carries, its stream
	// byte aside: within the 32 KiB a WebSocket client reads by default.
	outputChunk = 32<<10 - 1
	// wsCloseError plus an HTTP status (status) is the close code of a
	// request that failed after the upgrade, e.g. 4400 or 4404.
	wsCloseError = 4000
)

// isWebSocket reports whether r asks to upgrade to a WebSocket.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// acceptWebSocket accepts r's WebSocket with the runtools subprotocol. On
// failure Accept has answered the request already.
func acceptWebSocket(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsProtocol}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(wsReadLimit)
	return c, nil
}

// bridge carries one attach session over one WebSocket.
type bridge struct {
	log  *slog.Logger
	c    *websocket.Conn
	sess attachSession
	// tagged marks each output message with its stream and reports the
	// exit as a message (exec attach); otherwise output is raw and the
	// exit is said in the close reason only (the terminal).
	tagged bool
	// timeout, if set, ends the session after this long: exit 124.
	timeout  time.Duration
	timedOut atomic.Bool
}

// run carries the session until the process has exited and that has been
// reported, or until the caller goes away, which ends the process (the
// agent kills it, or hangs up its terminal).
func (b *bridge) run(ctx context.Context) {
	if b.timeout > 0 {
		t := time.AfterFunc(b.timeout, func() {
			b.timedOut.Store(true)
			b.sess.Close()
		})
		defer t.Stop()
	}
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		b.output(ctx)
	}()
	b.input(ctx)
	b.sess.Close()
	<-outDone
}

// input passes the caller's messages to the process until the WebSocket
// ends. Malformed and unknown control messages are ignored.
func (b *bridge) input(ctx context.Context) {
	for {
		typ, data, err := b.c.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			if _, err := b.sess.Write(data); err != nil {
				return
			}
			continue
		}
		var m client.AttachMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case client.AttachResize:
			if m.Cols > 0 && m.Rows > 0 {
				_ = b.sess.Resize(m.Cols, m.Rows)
			}
		case client.AttachEOF:
			_ = b.sess.CloseStdin()
		case client.AttachSignal:
			_ = b.sess.Signal(m.Signal)
		}
	}
}

// output sends the process's output as it comes, then its exit, then
// closes the WebSocket.
func (b *bridge) output(ctx context.Context) {
	var wg sync.WaitGroup
	pump := func(r io.Reader, stream byte) {
		defer wg.Done()
		buf := make([]byte, outputChunk+1)
		buf[0] = stream
		data := buf[1:]
		if !b.tagged {
			buf = buf[1:]
		}
		for {
			n, err := r.Read(data)
			if n > 0 && b.c.Write(ctx, websocket.MessageBinary, buf[:len(buf)-len(data)+n]) != nil {
				return
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(1)
	go pump(b.sess.Stdout(), client.StreamStdout)
	if b.tagged {
		wg.Add(1)
		go pump(b.sess.Stderr(), client.StreamStderr)
	}
	wg.Wait()
	code, err := waitExit(b.sess)
	switch {
	case b.timedOut.Load():
		code = exitTimedOut
		b.send(ctx, client.AttachMessage{Type: client.EventExit, ExitCode: &code, TimedOut: true})
	case err != nil:
		err = fmt.Errorf("%w: the session with the process broke: %w", errdefs.ErrUnavailable, err)
		if b.tagged {
			closeWithError(ctx, b.log, b.c, err)
		} else {
			b.c.Close(websocket.StatusInternalError, "the terminal session broke")
		}
		return
	case !b.tagged:
	default:
		if msg := b.sess.StartError(); msg != "" {
			b.send(ctx, client.AttachMessage{Type: client.EventError, Message: msg})
		}
		b.send(ctx, client.AttachMessage{Type: client.EventExit, ExitCode: &code})
	}
	b.c.Close(websocket.StatusNormalClosure, fmt.Sprintf("exit %d", code))
}

// exitTimedOut is the exit code of a command that ran out of time, as
// exec and timeout(1) report it.
const exitTimedOut = 124

func (b *bridge) send(ctx context.Context, m client.AttachMessage) error {
	return sendMessage(ctx, b.c, m)
}

func sendMessage(ctx context.Context, c *websocket.Conn, m client.AttachMessage) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding a message: %w", err)
	}
	return c.Write(ctx, websocket.MessageText, data)
}

// closeWithError reports a failed request on a WebSocket: an error
// message with the error's code, then a close with code 4000 plus the
// HTTP status the error would have had. Internal errors are logged, as
// writeError does.
func closeWithError(ctx context.Context, log *slog.Logger, c *websocket.Conn, err error) {
	if status(err) == http.StatusInternalServerError {
		log.Error("websocket request failed", "err", err)
	}
	_ = sendMessage(ctx, c, client.AttachMessage{Type: client.EventError, Code: wireCode(err), Message: err.Error()})
	reason := err.Error()
	if len(reason) > 120 { // a close reason holds at most 123 bytes
		reason = strings.ToValidUTF8(reason[:120], "")
	}
	c.Close(websocket.StatusCode(wsCloseError+status(err)), reason)
}

// waitExit waits briefly for the exit code of a process whose output ended.
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
		return -1, errors.New("no exit code 2s after the end of the output")
	}
}
