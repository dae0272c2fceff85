package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/sandbox"
)

// Live streams: status changes (from the recorded events, so a client that
// reconnects with the last seq it saw, as ?after= or Last-Event-ID, misses
// none) and metrics every second: for one sandbox by default, for every
// running sandbox of the team on request (?metrics=true). Served as
// Server-Sent Events, or over a WebSocket when the request asks to upgrade.

const (
	metricsEvery   = time.Second
	heartbeatEvery = 15 * time.Second
)

// watchSink sends events to one client.
type watchSink interface {
	send(ctx context.Context, ev client.WatchEvent) error
	heartbeat(ctx context.Context) error
}

func (s *Server) watchSandbox(w http.ResponseWriter, r *http.Request) error {
	metrics, err := boolParamOr(r, "metrics", true)
	if err != nil {
		return err
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.Get(r.Context(), id.TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return s.watch(w, r, sb.ID, metrics)
}

// watchTeam streams the status changes of the team's sandboxes and, with
// ?metrics=true, the metrics of each running one every second: what a list
// of them needs, on one connection.
func (s *Server) watchTeam(w http.ResponseWriter, r *http.Request) error {
	metrics, err := boolParam(r, "metrics")
	if err != nil {
		return err
	}
	return s.watch(w, r, "", metrics)
}

// watch streams the events of sandbox id, or of the team with id "".
// metrics adds the metrics of the sandbox, or of each running sandbox of
// the team, every second.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, id string, metrics bool) error {
	ctx := r.Context()
	team := identity(ctx).TeamID
	after, snapshot, err := s.resumePoint(r)
	if err != nil {
		return err
	}
	sink, err := s.openSink(w, r)
	if err != nil {
		return err
	}
	if snapshot && id != "" {
		// A new watcher first learns the current state.
		sb, err := s.sandboxes.Get(ctx, team, id)
		if err != nil {
			return err
		}
		st := s.status(sb, sandbox.Event{SandboxID: sb.ID, To: sb.State, Why: "current state", At: time.Now()})
		if err := sink.send(ctx, client.WatchEvent{Type: client.EventStatus, Seq: after, Status: &st}); err != nil {
			return nil
		}
	}
	prev := map[string]sandbox.Usage{} // the last sample of each running sandbox
	metricsTick := time.NewTicker(metricsEvery)
	defer metricsTick.Stop()
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	for {
		evs, changed, err := s.sandboxes.EventsSince(ctx, team, id, after)
		if err != nil {
			return nil // the stream has started: the client sees it end
		}
		for _, ev := range evs {
			sb, err := s.sandboxes.Get(ctx, team, ev.SandboxID)
			if err != nil {
				continue
			}
			st := s.status(sb, ev)
			if err := sink.send(ctx, client.WatchEvent{Type: client.EventStatus, Seq: ev.Seq, Status: &st}); err != nil {
				return nil
			}
			after = ev.Seq
		}
		if len(evs) > 0 {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-beat.C:
			if sink.heartbeat(ctx) != nil {
				return nil
			}
		case <-metricsTick.C:
			if !metrics {
				continue
			}
			now, err := s.usage(ctx, team, id)
			if err != nil {
				continue
			}
			// Sorted, so a team's events come in the same order each second.
			for _, sid := range slices.Sorted(maps.Keys(now)) {
				p, ok := prev[sid]
				if !ok {
					continue // a rate needs two samples
				}
				m := rates(sid, p, now[sid])
				if sink.send(ctx, client.WatchEvent{Type: client.EventMetrics, Metrics: &m}) != nil {
					return nil
				}
			}
			prev = now
		}
	}
}

// usage samples sandbox id, or with id "" every running sandbox of the
// team, by sandbox ID; a sandbox that is not running is left out.
func (s *Server) usage(ctx context.Context, team, id string) (map[string]sandbox.Usage, error) {
	if id == "" {
		return s.sandboxes.TeamUsage(ctx, team)
	}
	sb, u, err := s.sandboxes.Usage(ctx, team, id)
	if err != nil {
		return nil, err
	}
	if sb.State != sandbox.Running {
		return nil, nil
	}
	return map[string]sandbox.Usage{sb.ID: u}, nil
}

// resumePoint reads where a watcher resumes: ?after=SEQ or Last-Event-ID.
// Without either it starts from now, after a snapshot of the state.
func (s *Server) resumePoint(r *http.Request) (after int64, snapshot bool, err error) {
	v := r.URL.Query().Get("after")
	if v == "" {
		v = r.Header.Get("Last-Event-ID")
	}
	if v == "" {
		seq, err := s.sandboxes.LastEventSeq(r.Context())
		return seq, true, err
	}
	after, err = strconv.ParseInt(v, 10, 64)
	if err != nil || after < 0 {
		return 0, false, invalid("after (or Last-Event-ID) must be an event sequence number, got %q", v)
	}
	return after, false, nil
}

// status turns a recorded event into the status a watcher sees.
func (s *Server) status(sb *sandbox.Sandbox, ev sandbox.Event) client.Status {
	running := ev.To == sandbox.Running
	return client.Status{
		SandboxID: ev.SandboxID, State: string(ev.To), Reason: ev.Why, At: ev.At,
		SSHReady: running && s.sshHost != "",
		VNCReady: running && sb.Desktop && (ev.Why == sandbox.ReasonDesktopReady || s.sandboxes.VNCReady(sb.ID)),
		Labels:   sb.Labels, TimeoutAt: timePtr(sb.TimeoutAt),
	}
}

// rates turns two samples of cumulative usage into the metrics between them.
func rates(id string, a, b sandbox.Usage) client.Metrics {
	dt := b.At.Sub(a.At).Seconds()
	m := client.Metrics{
		SandboxID: id, At: b.At, MemBytes: b.MemBytes, MemLimitBytes: b.MemLimit,
		DiskUsedBytes: b.DiskBytes, DiskLimitBytes: b.DiskLimit,
	}
	if dt > 0 {
		if b.VCPUs > 0 && b.CPU >= a.CPU {
			m.CPUPercent = round1(100 * (b.CPU - a.CPU).Seconds() / dt / float64(b.VCPUs))
		}
		if b.NetRx >= a.NetRx && b.NetTx >= a.NetTx {
			m.NetRxBytesPerSec = round1(float64(b.NetRx-a.NetRx) / dt)
			m.NetTxBytesPerSec = round1(float64(b.NetTx-a.NetTx) / dt)
		}
	}
	if b.MemLimit > 0 {
		m.MemPercent = round1(100 * float64(b.MemBytes) / float64(b.MemLimit))
	}
	return m
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// openSink starts the stream: a WebSocket if the client asks to upgrade,
// else Server-Sent Events.
func (s *Server) openSink(w http.ResponseWriter, r *http.Request) (watchSink, error) {
	if isWebSocket(r) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: nil})
		if err != nil {
			return nil, fmt.Errorf("accepting the websocket: %w", err)
		}
		c.CloseRead(r.Context()) // the client sends nothing; this handles its close
		return wsSink{c}, nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return nil, err
	}
	return &sseSink{w: w, rc: rc}, nil
}

type sseSink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *sseSink) send(_ context.Context, ev client.WatchEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if ev.Seq > 0 && ev.Type == client.EventStatus {
		fmt.Fprintf(s.w, "id: %d\n", ev.Seq)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", ev.Type, data); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *sseSink) heartbeat(context.Context) error {
	if _, err := fmt.Fprint(s.w, ": keep-alive\n\n"); err != nil {
		return err
	}
	return s.rc.Flush()
}

type wsSink struct{ c *websocket.Conn }

func (s wsSink) send(ctx context.Context, ev client.WatchEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.c.Write(ctx, websocket.MessageText, data)
}

func (s wsSink) heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.c.Ping(ctx)
}
