package agent

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

// outputLimit bounds the output kept per background process.
const outputLimit = 1 << 20

// outputLog is a background process's combined, tagged output: a ring of
// the last outputLimit bytes, plus its exit event once known. Followers poll
// it by sequence number and wait on changed.
type outputLog struct {
	mu      sync.Mutex
	limit   int
	chunks  []chunk
	next    uint64 // sequence number of the next chunk
	size    int
	changed chan struct{} // closed and replaced on every change
	done    bool
	exit    agentapi.Event
}

type chunk struct {
	seq  uint64
	typ  string
	data []byte
}

func newOutputLog(limit int) *outputLog {
	return &outputLog{limit: limit, changed: make(chan struct{})}
}

func (o *outputLog) append(typ string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.chunks = append(o.chunks, chunk{seq: o.next, typ: typ, data: data})
	o.next++
	o.size += len(data)
	for o.size > o.limit {
		excess := o.size - o.limit
		first := &o.chunks[0]
		if len(first.data) <= excess {
			o.size -= len(first.data)
			o.chunks[0] = chunk{}
			o.chunks = o.chunks[1:]
			continue
		}
		// Chunk data is never modified in place, so readers holding the old
		// slice are unaffected.
		first.data = first.data[excess:]
		o.size -= excess
	}
	o.notifyLocked()
}

func (o *outputLog) finish(exit agentapi.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done, o.exit = true, exit
	o.notifyLocked()
}

func (o *outputLog) notifyLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// since returns the retained chunks numbered seq or later, the number to
// ask for next, whether the process has exited (then every chunk has been
// returned) and a channel closed at the next change.
func (o *outputLog) since(seq uint64) (chunks []chunk, next uint64, done bool, exit agentapi.Event, changed <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.chunks {
		if o.chunks[i].seq >= seq {
			chunks = append([]chunk(nil), o.chunks[i:]...)
			break
		}
	}
	return chunks, o.next, o.done, o.exit, o.changed
}

// streamOutput streams the output of a background process to w as an
// event stream (see outputLog.stream). A foreground process's output
// belongs to its exec stream: a conflict.
func (p *process) streamOutput(ctx context.Context, w http.ResponseWriter, follow bool) error {
	if p.out == nil {
		return fmt.Errorf("%w: process %d runs in the foreground; its output goes to its exec stream", errdefs.ErrConflict, p.pid)
	}
	p.out.stream(ctx, newEventWriter(w), follow)
	return nil
}

// stream sends the output kept to ew, then with follow the output to come
// and, once the process has exited, its exit event. It stops when ctx ends
// or ew fails.
func (o *outputLog) stream(ctx context.Context, ew *eventWriter, follow bool) {
	var seq uint64
	for {
		chunks, next, done, exit, changed := o.since(seq)
		for _, c := range chunks {
			if ew.send(agentapi.Event{Type: c.typ, Data: c.data}) != nil {
				return
			}
		}
		seq = next
		if done {
			ew.send(exit)
			return
		}
		if !follow {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}
