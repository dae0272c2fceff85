// Package events is the event stream section, on runtools only: how long
// a status change takes from the daemon's record of it to a watcher, on
// each kind of stream, and how regularly the metrics come.
package events

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Runs     int // pause/resume rounds and metrics intervals; 0 leaves the section out
	Template string
}

// Section is the event stream section.
type Section struct {
	Config   Config
	Streams  []*Stream
	Calls    int      // Pause and Resume calls made
	Failures []string // those that failed, and why
	Skipped  string   // why it did not run, if it did not
	Took     time.Duration
}

var _ section.Section = (*Section)(nil)

// Stream is what one watcher saw.
type Stream struct {
	Name     string
	Sandbox  bool                     // a sandbox's stream (with metrics), not the team's
	FromAt   stats.Samples            // receipt − the event's `at`, every status event of the trials
	ByState  map[string]stats.Samples // the same, by the state the event reports
	FromCall stats.Samples            // receipt − the return of the Pause or Resume that made a paused or running event
	// The metrics cadence, from the metrics window: intervals between
	// consecutive metrics events as received, and between their `at`.
	MetricsRecv, MetricsAt stats.Samples
}

// StateP50 is the p50 delivery of the events that report state.
func (s *Stream) StateP50(state string) time.Duration { return s.ByState[state].P50() }

// The streams, as the report names them.
const (
	streamSandboxSSE = "sandbox stream, SSE (Go SDK `Client.Watch`)"
	streamSandboxWS  = "sandbox stream, WebSocket"
	streamTeamSSE    = "team stream, SSE (Go SDK `Client.WatchTeam`)"
	streamTeamWS     = "team stream, WebSocket"
)

// states are the states a pause and a resume report, in order.
var states = []string{client.StatePausing, client.StatePaused, client.StateResuming, client.StateRunning}

// eventWait bounds the wait for a stream to deliver an event.
const eventWait = 15 * time.Second

// Name is "events".
func (s *Section) Name() string { return "events" }

// Run measures, unless -event-runs=0 left the section out; a failure is
// reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	return section.Optional(ctx, "event stream", s.Config.Runs == 0, "-event-runs=0", &s.Skipped,
		func() error { return s.measure(ctx, env) })
}

// measure watches one idle sandbox on four streams at once (its own and
// the team's, each over SSE and over WebSocket), first for the metrics
// cadence, then through rounds of pause and resume. The sandbox is removed
// after, and by undo on failure.
func (s *Section) measure(ctx context.Context, env *section.Env) (err error) {
	t := time.Now()
	srv := env.Server
	sb, remove, err := env.Idle(ctx, s.Config.Template, "the watched sandbox")
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		if ctx.Err() == nil { // else undo removes it
			err = errors.Join(err, remove(ctx))
		}
	}()
	s.Streams = []*Stream{
		{Name: streamSandboxSSE, Sandbox: true}, {Name: streamSandboxWS, Sandbox: true},
		{Name: streamTeamSSE}, {Name: streamTeamWS},
	}
	for _, st := range s.Streams {
		st.ByState = map[string]stats.Samples{}
	}
	w := &watchers{ch: make(chan received, 4096), streams: s.Streams, srv: srv}
	seq0, err := w.open(ctx, wctx, sb.ID)
	if err != nil {
		return err
	}
	if err := s.measureCadence(ctx, w.ch, sb.ID); err != nil {
		return fmt.Errorf("metrics cadence: %w", err)
	}
	if err := s.measureDelivery(ctx, w.ch, srv.Client, sb.ID, seq0); err != nil {
		return err
	}
	s.Took = time.Since(t)
	return nil
}

// measureCadence records the intervals between Runs+1 consecutive metrics
// events of each sandbox stream, the sandbox running and idle.
func (s *Section) measureCadence(ctx context.Context, ch <-chan received, id string) error {
	runs := s.Config.Runs
	fmt.Fprintf(os.Stderr, "event streams: %d metrics intervals\n", runs)
	last := map[int]client.WatchEvent{}
	lastAt := map[int]time.Time{}
	counted := map[int]int{}
	// One event a second, the first after two.
	return collect(ctx, ch, time.Duration(runs+2)*time.Second+eventWait, func(r received) bool {
		if r.ev.Type != client.EventMetrics || r.ev.Metrics.SandboxID != id || counted[r.stream] >= runs {
			return false
		}
		st := s.Streams[r.stream]
		if prev, ok := last[r.stream]; ok {
			st.MetricsRecv = append(st.MetricsRecv, r.at.Sub(lastAt[r.stream]))
			st.MetricsAt = append(st.MetricsAt, r.ev.Metrics.At.Sub(prev.Metrics.At))
			counted[r.stream]++
		}
		last[r.stream], lastAt[r.stream] = r.ev, r.at
		return counted[r.stream] >= runs
	}, []int{0, 1})
}

// measureDelivery pauses and resumes the sandbox; every stream must
// deliver each final state. The first round warms up and makes sure the
// team's streams are open.
func (s *Section) measureDelivery(ctx context.Context, ch <-chan received, c *client.Client, id string, seq0 int64) error {
	e := &trials{sec: s, c: c, id: id, ch: ch, seen: seq0}
	for round := -1; round < s.Config.Runs; round++ {
		for _, st := range []step{{"pause", client.StatePaused, c.Pause}, {"resume", client.StateRunning, c.Resume}} {
			if err := e.step(ctx, st, round >= 0); err != nil {
				return fmt.Errorf("round %d: %w", round+1, err)
			}
		}
		measure.Progress("event streams", round, 1, s.Config.Runs)
	}
	return nil
}

// sandboxWatchPath is the path of the sandbox's own stream.
func sandboxWatchPath(id string) string { return "/v1/sandboxes/" + url.PathEscape(id) + "/watch" }

// teamWatchPath is the path of the team's stream after seq.
func teamWatchPath(seq int64) string { return "/v1/watch?after=" + strconv.FormatInt(seq, 10) }
