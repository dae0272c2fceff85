package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Burst is one measurement of many creates at once, each followed by one
// exec of `true`.
type Burst struct {
	Nodes      int           // nodes ready to take them
	Sandboxes  int           // creates started
	Wall       time.Duration // from the start of all until the last one ended
	Create     stats.Samples // each `client.Create` that succeeded
	CreateExec stats.Samples // each create and first exec that succeeded, end to end
	Failures   int
	FirstErr   string
	Placed     map[string]int // sandboxes per node, of those created
}

// Rate is the sandboxes created and answering per second of the wall
// time; 0 if it has none.
func (b Burst) Rate() float64 {
	if b.Wall <= 0 {
		return 0
	}
	return float64(len(b.CreateExec)) / b.Wall.Seconds()
}

// PlacedText says where the sandboxes ran, by node name: "n1 10, n2 10".
func (b Burst) PlacedText() string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(b.Placed)) {
		parts = append(parts, fmt.Sprintf("%s %d", n, b.Placed[n]))
	}
	return strings.Join(parts, ", ")
}

// outcome is what one create of a burst did.
type outcome struct {
	node          string
	create, whole time.Duration
	err           error
}

// add records one create's outcome.
func (b *Burst) add(o outcome) {
	if o.err != nil {
		b.Failures++
		if b.FirstErr == "" {
			b.FirstErr = o.err.Error()
		}
		return
	}
	if b.Placed == nil {
		b.Placed = map[string]int{}
	}
	b.Placed[o.node]++
	b.Create = append(b.Create, o.create)
	b.CreateExec = append(b.CreateExec, o.whole)
}

// burst starts n creates of template at once, the i-th through the API
// of via[i % len(via)], each followed by an exec of `true` through the
// same API, and waits for all of them. The sandboxes are left running.
func burst(ctx context.Context, via []*node, n int, template string) Burst {
	b := Burst{Sandboxes: n}
	outs := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			outs[i] = createAndExec(ctx, via[i%len(via)].c(), template)
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	b.Wall = time.Since(t0)
	for _, o := range outs {
		b.add(o)
	}
	return b
}

// createAndExec creates a sandbox of template that the daemon never
// pauses by itself, then runs `true` in it, timing both.
func createAndExec(ctx context.Context, c *client.Client, template string) outcome {
	zero := 0
	t0 := time.Now()
	sb, err := c.Create(ctx, client.CreateRequest{Template: template, IdleTimeout: &zero})
	if err != nil {
		return outcome{err: fmt.Errorf("create: %w", err)}
	}
	t1 := time.Now()
	if err := server.ExecTrueWith(ctx, c, sb.ID); err != nil {
		return outcome{err: err}
	}
	return outcome{node: sb.Node, create: t1.Sub(t0), whole: time.Since(t0)}
}
