package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// received is one event as a watcher got it.
type received struct {
	stream int
	ev     client.WatchEvent
	at     time.Time // when the bench had it decoded
	err    error     // the watcher ended with this
}

// watchers are the four watchers, delivering what they get on ch.
type watchers struct {
	ch      chan received
	streams []*Stream
	srv     *server.Server
}

// start runs watch as stream i until wctx ends, handing each event to ch
// as soon as it is decoded, and the watcher's end too.
func (w *watchers) start(wctx context.Context, i int, watch func(context.Context, func(client.WatchEvent)) error) {
	name := w.streams[i].Name
	deliver := func(ev client.WatchEvent) {
		r := received{stream: i, ev: ev, at: time.Now()}
		select {
		case w.ch <- r:
		case <-wctx.Done():
		}
	}
	go func() {
		err := watch(wctx, deliver)
		select {
		case w.ch <- received{stream: i, err: fmt.Errorf("%s ended: %w", name, err)}:
		case <-wctx.Done():
		}
	}()
}

// open starts the sandbox's watchers and waits for their first event: the
// current state, with the seq of the latest event. Then it starts the
// team's watchers after that seq, so they miss nothing whenever their
// streams open, and returns it.
func (w *watchers) open(ctx, wctx context.Context, id string) (int64, error) {
	c := w.srv.Client
	w.start(wctx, 0, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return c.Watch(ctx, id, client.WatchOptions{}, func(ev client.WatchEvent) error { fn(ev); return nil })
	})
	w.start(wctx, 1, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return watchWS(ctx, w.srv, sandboxWatchPath(id), fn)
	})
	fmt.Fprintln(os.Stderr, "event streams: opening the watchers")
	var seq0 int64
	err := collect(ctx, w.ch, eventWait, func(r received) bool {
		if r.ev.Type == client.EventStatus && r.ev.Status.SandboxID == id && r.ev.Status.State == client.StateRunning {
			seq0 = max(seq0, r.ev.Seq)
			return true
		}
		return false
	}, []int{0, 1})
	if err != nil {
		return 0, fmt.Errorf("waiting for the sandbox streams' first event: %w", err)
	}
	w.start(wctx, 2, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return c.WatchTeam(ctx, client.WatchOptions{After: seq0}, func(ev client.WatchEvent) error { fn(ev); return nil })
	})
	w.start(wctx, 3, func(ctx context.Context, fn func(client.WatchEvent)) error {
		return watchWS(ctx, w.srv, teamWatchPath(seq0), fn)
	})
	return seq0, nil
}

// step is a call that changes the sandbox's state to want.
type step struct {
	name, want string
	call       func(context.Context, string) (*client.Sandbox, error)
}

// trials runs the calls and collects what the streams deliver.
type trials struct {
	sec  *Section
	c    *client.Client
	id   string
	ch   <-chan received
	seen int64 // the newest seq delivered so far
}

// step makes the call after the settle gap and waits until every stream
// has delivered its final state, recording the deliveries if count. A
// call that fails is recorded and made once more, after every stream has
// delivered the state it left the sandbox in.
func (e *trials) step(ctx context.Context, st step, count bool) error {
	for attempt := 1; ; attempt++ {
		if err := measure.Settle(ctx); err != nil {
			return err
		}
		e.sec.Calls++
		_, callErr := st.call(ctx, e.id)
		returned := time.Now()
		want := st.want
		if callErr != nil {
			if attempt == 2 || ctx.Err() != nil {
				return fmt.Errorf("%s (a second time): %w", st.name, callErr)
			}
			e.sec.Failures = append(e.sec.Failures, fmt.Sprintf("%s: %v", st.name, callErr))
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
func (e *trials) await(ctx context.Context, want string, returned time.Time, count bool) error {
	after, newest := e.seen, e.seen
	err := collect(ctx, e.ch, eventWait, func(r received) bool {
		st := r.ev.Status
		if r.ev.Type != client.EventStatus || st.SandboxID != e.id || r.ev.Seq <= after {
			return false
		}
		newest = max(newest, r.ev.Seq)
		if count {
			s := e.sec.Streams[r.stream]
			d := r.at.Sub(st.At)
			s.FromAt = append(s.FromAt, d)
			s.ByState[st.State] = append(s.ByState[st.State], d)
			if st.State == want {
				s.FromCall = append(s.FromCall, r.at.Sub(returned))
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
func watchWS(ctx context.Context, srv *server.Server, path string, fn func(client.WatchEvent)) error {
	c, _, err := websocket.Dial(ctx, "ws://"+srv.Addr+path, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + srv.Key}},
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
