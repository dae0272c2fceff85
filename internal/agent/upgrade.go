package agent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// lingerTimeout bounds how long the agent keeps reading (and dropping) what
// the caller still sends after the agent's last word on an upgraded
// connection. Closing with unread data would send a reset, which can make
// the caller lose the end of the stream.
const lingerTimeout = 2 * time.Second

// checkUpgrade reports whether r asks to switch to proto: "Connection:
// Upgrade" and "Upgrade: proto".
func checkUpgrade(r *http.Request, proto string) error {
	upgrade := false
	for _, v := range r.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				upgrade = true
			}
		}
	}
	if !upgrade || !strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), proto) {
		return fmt.Errorf("%w: %s %s needs the headers Connection: Upgrade and Upgrade: %s",
			errdefs.ErrInvalidArgument, r.Method, r.URL.Path, proto)
	}
	return nil
}

// hijack takes the connection over from net/http, with no deadlines. br
// holds whatever the caller sent after the request; read through it. The
// 101 answer is left to the caller, who may still answer with an error
// (writeRawError) instead.
func hijack(w http.ResponseWriter) (conn net.Conn, br *bufio.Reader, err error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("taking over the connection: %w", err)
	}
	conn.SetDeadline(time.Time{})
	return conn, brw.Reader, nil
}

// switching is the 101 answer that starts proto.
func switching(proto string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + proto + "\r\n\r\n"
}

// startSession answers 101 for proto on conn, a hijacked connection, and
// tracks the session in s.sessions, where end ends it. It returns ok false,
// having called end, when the agent is shutting down or the caller has
// gone; else the caller must call untrack once the session is over.
func (s *Server) startSession(conn net.Conn, proto string, end func()) (untrack func(), ok bool) {
	untrack, ok = s.sessions.add(end)
	if !ok {
		return nil, false
	}
	if _, err := io.WriteString(conn, switching(proto)); err != nil {
		untrack()
		end()
		return nil, false
	}
	return untrack, true
}

// writeRawError answers on a hijacked connection as writeError would.
func writeRawError(w io.Writer, err error) {
	code := errdefs.Code(err)
	status := httpStatus(code)
	body, _ := json.Marshal(agentapi.Error{Code: code, Message: errMessage(err)})
	body = append(body, '\n')
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

// closeGracefully ends an upgraded connection after the agent's last
// frame: it sends FIN, then waits (at most lingerTimeout) until the caller
// closes too, reading on its own when readerDone is nil or leaving that to
// the goroutine that closes readerDone.
func closeGracefully(conn net.Conn, br *bufio.Reader, readerDone <-chan struct{}) {
	defer conn.Close()
	cw, ok := conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	if readerDone == nil {
		io.Copy(io.Discard, br)
		return
	}
	<-readerDone // the deadline ends it at the latest
}

// sessions tracks upgraded connections, which http.Server.Shutdown does not
// know about, so that Server.Close can end them.
type sessions struct {
	mu     sync.Mutex
	next   int
	stops  map[int]func()
	closed bool
}

// add registers stop, which ends one session, and returns the function
// that unregisters it. After closeAll it registers nothing: it calls stop
// and returns ok false.
func (ss *sessions) add(stop func()) (remove func(), ok bool) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		stop()
		return nil, false
	}
	if ss.stops == nil {
		ss.stops = make(map[int]func())
	}
	id := ss.next
	ss.next++
	ss.stops[id] = stop
	ss.mu.Unlock()
	return func() {
		ss.mu.Lock()
		delete(ss.stops, id)
		ss.mu.Unlock()
	}, true
}

// closeAll ends every session and refuses new ones.
func (ss *sessions) closeAll() {
	ss.mu.Lock()
	stops := ss.stops
	ss.stops, ss.closed = nil, true
	ss.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}
