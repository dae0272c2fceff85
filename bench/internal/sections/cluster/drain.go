package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Drain is what draining a node did.
type Drain struct {
	Node      string        // the node drained
	Sandboxes int           // running on it when the drain began
	Total     time.Duration // the whole `client.Drain` call
	Away      stats.Samples // each moved sandbox's AwayMS: from its pause to its resume elsewhere
	Moved     int
	Failed    int
	Errors    []string       // each failed sandbox's error
	To        map[string]int // moved sandboxes per node they went to
}

// ToText says where the sandboxes went: "n2 2, n3 1".
func (d Drain) ToText() string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(d.To)) {
		parts = append(parts, fmt.Sprintf("%s %d", n, d.To[n]))
	}
	return strings.Join(parts, ", ")
}

// PerSandbox is the drain's whole time over the sandboxes it moved; 0 if
// it moved none.
func (d Drain) PerSandbox() time.Duration {
	if d.Moved == 0 {
		return 0
	}
	return d.Total / time.Duration(d.Moved)
}

// add records one sandbox's outcome of the drain.
func (d *Drain) add(ev client.DrainEvent) {
	if ev.Error != "" {
		d.Errors = append(d.Errors, ev.Sandbox+": "+ev.Error)
		return
	}
	if d.To == nil {
		d.To = map[string]int{}
	}
	d.To[ev.To]++
	d.Away = append(d.Away, time.Duration(ev.AwayMS)*time.Millisecond)
}

// measureDrain starts Config.Drain sandboxes on the first node (the
// others cordoned meanwhile), makes all nodes ready, and drains the first
// node through its own API, timing the whole; then checks that each
// sandbox answers where it went, and makes the drained node ready again.
func (s *Section) measureDrain(ctx context.Context, f *fleet) error {
	n := f.nodes[0]
	if err := f.only(ctx, n); err != nil {
		return err
	}
	var ids []string
	for range s.Config.Drain {
		sb, owner, err := f.createOn(ctx, n, s.Config.Template)
		if err != nil {
			return err
		}
		if ids = append(ids, sb.ID); owner != n {
			return fmt.Errorf("sandbox %s went to node %s with the others cordoned", sb.ID, owner.name)
		}
	}
	if err := f.only(ctx, nil); err != nil {
		return err
	}
	d := Drain{Node: n.name, Sandboxes: len(ids)}
	t0 := time.Now()
	sum, err := n.c().Drain(ctx, n.name, d.add)
	d.Total = time.Since(t0)
	if err != nil {
		return fmt.Errorf("draining node %s: %w", n.name, err)
	}
	d.Moved, d.Failed = sum.Moved, sum.Failed
	s.Drain = d
	var errs []error
	for _, id := range ids {
		errs = append(errs, server.ExecTrueWith(ctx, n.c(), id))
	}
	if _, err := n.c().SetNodeState(ctx, n.name, "ready"); err != nil {
		errs = append(errs, fmt.Errorf("making node %s ready after its drain: %w", n.name, err))
	}
	return errors.Join(append(errs, f.destroyAll(ctx))...)
}
