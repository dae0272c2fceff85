package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// waker pauses the proxy's Node.js sandbox and wakes it, each round, once
// by a GET through the proxy and once by client.Resume followed by a GET to
// its address, so the two can be compared on the same sandbox.
type waker struct {
	s       *server.Server
	sb      *client.Sandbox
	proxied endpoint
}

func (w *waker) cycler() measure.Cycler {
	return measure.Cycler{Name: measure.Runtools, Ops: []measure.Op{w.wakeByRequest, w.wakeByResume}}
}

// wakeClient makes one connection per request, closed after the answer:
// no connection may be open into the sandbox when it is paused.
var wakeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}, Timeout: 30 * time.Second}

// pause pauses the sandbox (untimed) and waits the settle gap.
func (w *waker) pause(ctx context.Context) error {
	sb, err := w.s.Client.Pause(ctx, w.sb.ID)
	if err != nil {
		return fmt.Errorf("pausing %s: %w", w.sb.ID, err)
	}
	if sb.State != client.StatePaused {
		return fmt.Errorf("pausing %s: state %s after Pause", w.sb.ID, sb.State)
	}
	return measure.Settle(ctx)
}

func (w *waker) wakeByRequest(ctx context.Context) ([]stats.Phase, error) {
	if err := w.pause(ctx); err != nil {
		return nil, err
	}
	req, err := w.proxied.request(ctx)
	if err != nil {
		return nil, err
	}
	first, err := timeGet(req)
	if err != nil {
		return nil, fmt.Errorf("GET through the proxy to paused %s: %w", w.sb.ID, err)
	}
	sb, err := w.s.Client.Get(ctx, w.sb.ID)
	if err != nil {
		return nil, fmt.Errorf("looking at %s after its wake: %w", w.sb.ID, err)
	}
	if sb.State != client.StateRunning {
		return nil, fmt.Errorf("%s is %s after a request woke it", w.sb.ID, sb.State)
	}
	return []stats.Phase{{Name: phWake, D: first}}, nil
}

func (w *waker) wakeByResume(ctx context.Context) ([]stats.Phase, error) {
	if err := w.pause(ctx); err != nil {
		return nil, err
	}
	t0 := time.Now()
	sb, err := w.s.Client.Resume(ctx, w.sb.ID)
	resumed := time.Since(t0)
	if err != nil {
		return nil, fmt.Errorf("resuming %s: %w", w.sb.ID, err)
	}
	if sb.State != client.StateRunning {
		return nil, fmt.Errorf("resuming %s: state %s after Resume", w.sb.ID, sb.State)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s:%d/", w.sb.IP, node.Port), nil)
	if err != nil {
		return nil, err
	}
	first, err := timeGet(req)
	if err != nil {
		return nil, fmt.Errorf("GET to %s right after its Resume: %w", w.sb.ID, err)
	}
	return []stats.Phase{{Name: phAPIRes, D: resumed}, {Name: phAPIGet, D: resumed + first}}, nil
}

// timeGet sends req once, on a new connection, and returns how long until
// the answer's first byte. The whole answer is read, untimed, and must be
// the Node.js server's: 200 and "0".
func timeGet(req *http.Request) (time.Duration, error) {
	var firstAt time.Time
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotFirstResponseByte: func() { firstAt = time.Now() },
	}))
	t0 := time.Now()
	resp, err := wakeClient.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != "0" {
		return 0, fmt.Errorf("answered %s %q, want 200 \"0\"", resp.Status, body)
	}
	return firstAt.Sub(t0), nil
}
