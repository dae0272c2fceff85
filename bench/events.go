package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
)

// eventsSection is what the event stream measurements found, on runtools
// only: how long a status change takes from the daemon's record of it to
// a watcher, on each kind of stream, and how regularly the metrics come.
type eventsSection struct {
	runs     int
	streams  []*streamResult
	calls    int      // Pause and Resume calls made
	failures []string // those that failed, and why
	skipped  string   // why it did not run, if it did not
	took     time.Duration
}

// streamResult is what one watcher saw.
type streamResult struct {
	name     string
	sandbox  bool               // a sandbox's stream (with metrics), not the team's
	fromAt   samples            // receipt − the event's `at`, every status event of the trials
	byState  map[string]samples // the same, by the state the event reports
	fromCall samples            // receipt − the return of the Pause or Resume that made a paused or running event
	// The metrics cadence, from the metrics window: intervals between
	// consecutive metrics events as received, and between their `at`.
	metricsRecv, metricsAt samples
}

// The streams, as the report names them.
const (
	streamSandboxSSE = "sandbox stream, SSE (Go SDK `Client.Watch`)"
	streamSandboxWS  = "sandbox stream, WebSocket"
	streamTeamSSE    = "team stream, SSE (Go SDK `Client.WatchTeam`)"
	streamTeamWS     = "team stream, WebSocket"
)

// eventWait bounds the wait for a stream to deliver an event.
const eventWait = 15 * time.Second

// received is one event as a watcher got it.
type received struct {
	stream int
	ev     client.WatchEvent
	at     time.Time // when the bench had it decoded
	err    error     // the watcher ended with this
}

// measureEventsSection measures the event streams into rep. If it fails,
// it is reported as not measured, with the reason, so that the rest of
// the report survives; an interruption stops the bench.
func measureEventsSection(ctx context.Context, undo *undoStack, rep *report, srv *server) error {
	var err error
	if rep.events, err = measureEvents(ctx, undo, srv, rep.cfg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("event streams: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\nbench: the event stream section failed: %v\n", err)
		rep.events.skipped = "failed: " + err.Error()
	}
	return nil
}

// measureEvents watches one idle sandbox on four streams at once (its own
// and the team's, each over SSE and over WebSocket), first for the metrics
// cadence, then through rounds of pause and resume. The sandbox is removed
// after, and by undo on failure.
func measureEvents(ctx context.Context, undo *undoStack, srv *server, cfg config) (sec eventsSection, err error) {
	sec = eventsSection{runs: cfg.eventRuns}
	if cfg.eventRuns == 0 {
		sec.skipped = "left out with -event-runs=0"
		return sec, nil
	}
	t := time.Now()
	zero := 0
	sb, err := srv.c.Create(ctx, client.CreateRequest{Template: cfg.template, IdleTimeout: &zero})
	if err != nil {
		return sec, fmt.Errorf("creating the sandbox to watch: %w", err)
	}
	remove := removeOnce(func(ctx context.Context) error { return srv.destroy(ctx, sb) })
	undo.push("remove the watched sandbox "+sb.ID, remove)
	wctx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		if ctx.Err() == nil { // else undo removes it
			err = errors.Join(err, remove(ctx))
		}
	}()

	sec.streams = []*streamResult{
		{name: streamSandboxSSE, sandbox: true}, {name: streamSandboxWS, sandbox: true},
		{name: streamTeamSSE}, {name: streamTeamWS},
	}
	for _, s := range sec.streams {
		s.byState = map[string]samples{}
	}
	ch := make(chan received, 4096)
	start := func(i int, watch func(context.Context, func(client.WatchEvent)) error) {
		name := sec.streams[i].name
		deliver := func(ev client.WatchEvent) {
			r := received{stream: i, ev: ev, at: time.Now()}
			select {
			case ch <- r:
			case <-wctx.Done():
			}
		}
		go func() {
			err := watch(wctx, deliver)
			select {
			case ch <- received{stream: i, err: fmt.Errorf("%s ended: %w", name, err)}:
			case <-wctx.Done():
			}
		}()
	}
	sbPath := "/v1/sandboxes/" + url.PathEscape(sb.ID) + "/watch"
	start(0, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return srv.c.Watch(ctx, sb.ID, client.WatchOptions{}, func(ev client.WatchEvent) error { fn(ev); return nil })
	})
	start(1, func(ctx context.Context, fn func(client.WatchEvent)) error { return watchWS(ctx, srv, sbPath, fn) })

	// A new sandbox watcher first gets the current state, with the seq of
	// the latest event; the team's watchers resume after it, so they miss
	// nothing whenever their streams open.
	fmt.Fprintln(os.Stderr, "event streams: opening the watchers")
	var seq0 int64
	err = collect(ctx, ch, eventWait, func(r received) bool {
		if r.ev.Type == client.EventStatus && r.ev.Status.SandboxID == sb.ID && r.ev.Status.State == client.StateRunning {
			seq0 = max(seq0, r.ev.Seq)
			return true
		}
		return false
	}, []int{0, 1})
	if err != nil {
		return sec, fmt.Errorf("waiting for the sandbox streams' first event: %w", err)
	}
	start(2, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return srv.c.WatchTeam(ctx, client.WatchOptions{After: seq0}, func(ev client.WatchEvent) error { fn(ev); return nil })
	})
	start(3, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return watchWS(ctx, srv, "/v1/watch?after="+strconv.FormatInt(seq0, 10), fn)
	})

	// The metrics cadence, the sandbox running and idle.
	fmt.Fprintf(os.Stderr, "event streams: %d metrics intervals\n", cfg.eventRuns)
	last := map[int]client.WatchEvent{}
	lastAt := map[int]time.Time{}
	counted := map[int]int{}
	// One event a second, the first after two.
	err = collect(ctx, ch, time.Duration(cfg.eventRuns+2)*time.Second+eventWait, func(r received) bool {
		if r.ev.Type != client.EventMetrics || r.ev.Metrics.SandboxID != sb.ID || counted[r.stream] >= cfg.eventRuns {
			return false
		}
		s := sec.streams[r.stream]
		if prev, ok := last[r.stream]; ok {
			s.metricsRecv = append(s.metricsRecv, r.at.Sub(lastAt[r.stream]))
			s.metricsAt = append(s.metricsAt, r.ev.Metrics.At.Sub(prev.Metrics.At))
			counted[r.stream]++
		}
		last[r.stream], lastAt[r.stream] = r.ev, r.at
		return counted[r.stream] >= cfg.eventRuns
	}, []int{0, 1})
	if err != nil {
		return sec, fmt.Errorf("metrics cadence: %w", err)
	}

	// Pause and resume; every stream must deliver each final state. The
	// first round warms up and makes sure the team's streams are open.
	e := &eventTrials{sec: &sec, c: srv.c, id: sb.ID, ch: ch, seen: seq0}
	for round := -1; round < cfg.eventRuns; round++ {
		for _, st := range []eventStep{{"pause", client.StatePaused, srv.c.Pause}, {"resume", client.StateRunning, srv.c.Resume}} {
			if err := e.step(ctx, st, round >= 0); err != nil {
				return sec, fmt.Errorf("round %d: %w", round+1, err)
			}
		}
		progress("event streams", round, 1, cfg.eventRuns)
	}
	sec.took = time.Since(t)
	return sec, nil
}

// eventStep is a call that changes the sandbox's state to want.
type eventStep struct {
	name, want string
	call       func(context.Context, string) (*client.Sandbox, error)
}

// eventTrials runs the calls and collects what the streams deliver.
type eventTrials struct {
	sec  *eventsSection
	c    *client.Client
	id   string
	ch   <-chan received
	seen int64 // the newest seq delivered so far
}

// step makes the call after the settle gap and waits until every stream
// has delivered its final state, recording the deliveries if count. A
// call that fails is recorded and made once more, after every stream has
// delivered the state it left the sandbox in.
func (e *eventTrials) step(ctx context.Context, st eventStep, count bool) error {
	for attempt := 1; ; attempt++ {
		if err := settle(ctx); err != nil {
			return err
		}
		e.sec.calls++
		_, callErr := st.call(ctx, e.id)
		returned := time.Now()
		want := st.want
		if callErr != nil {
			if attempt == 2 || ctx.Err() != nil {
				return fmt.Errorf("%s (a second time): %w", st.name, callErr)
			}
			e.sec.failures = append(e.sec.failures, fmt.Sprintf("%s: %v", st.name, callErr))
			fmt.Fprintf(os.Stderr, "\nbench: event streams: %s failed, trying once more: %v\n", st.name, callErr)
			sb, err := e.c.Get(ctx, e.id)
			if err != nil {
				return errors.Join(callErr, err)
			}
			want = sb.State
		}
		if err := e.await(ctx, want, returned, count && callErr == nil); err != nil {
			return fmt.Errorf("%s, waiting for %s: %w", st.name, want, err)
		}
		if callErr == nil {
			return nil
		}
	}
}

// await reads the streams until each has delivered an event newer than
// those seen before that says the sandbox is in state want.
func (e *eventTrials) await(ctx context.Context, want string, returned time.Time, count bool) error {
	after, newest := e.seen, e.seen
	err := collect(ctx, e.ch, eventWait, func(r received) bool {
		st := r.ev.Status
		if r.ev.Type != client.EventStatus || st.SandboxID != e.id || r.ev.Seq <= after {
			return false
		}
		newest = max(newest, r.ev.Seq)
		if count {
			s := e.sec.streams[r.stream]
			d := r.at.Sub(st.At)
			s.fromAt = append(s.fromAt, d)
			s.byState[st.State] = append(s.byState[st.State], d)
			if st.State == want {
				s.fromCall = append(s.fromCall, r.at.Sub(returned))
			}
		}
		return st.State == want
	}, []int{0, 1, 2, 3})
	e.seen = newest
	return err
}

// collect reads events from ch until done has said true for one event of
// each of the streams, limit passes without that, or a watcher ends.
func collect(ctx context.Context, ch <-chan received, limit time.Duration, done func(received) bool, streams []int) error {
	left := map[int]bool{}
	for _, i := range streams {
		left[i] = true
	}
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for len(left) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return fmt.Errorf("not done within %s on %d stream(s)", limit, len(left))
		case r := <-ch:
			if r.err != nil {
				return r.err
			}
			if done(r) {
				delete(left, r.stream)
			}
		}
	}
	return nil
}

// watchWS reads a stream over a WebSocket, handing every event to fn as
// soon as it is decoded, until ctx ends or the connection does.
func watchWS(ctx context.Context, srv *server, path string, fn func(client.WatchEvent)) error {
	c, _, err := websocket.Dial(ctx, "ws://"+srv.addr+path, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + srv.key}},
	})
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer c.CloseNow()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return ctx.Err()
			}
			return fmt.Errorf("reading %s: %w", path, err)
		}
		var ev client.WatchEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return fmt.Errorf("decoding an event of %s: %w", path, err)
		}
		fn(ev)
	}
}
