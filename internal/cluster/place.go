package cluster

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Place picks the node a new sandbox of the template goes to: among the
// nodes that are ready, not lost and have a free slot, those that hold
// the template, and of them the least loaded (the fewest sandboxes for
// its slots), self on a tie. A template no node holds (a custom one,
// built on one node) is placed on self, which knows it or says so.
// When no node has room, the error says what each one lacks.
func Place(nodes []Node, self, template string, now time.Time) (Node, error) {
	var open []Node
	for _, n := range nodes {
		if n.Status(now) == Ready && n.Sandboxes < n.Slots {
			open = append(open, n)
		}
	}
	holds := func(n Node) bool { return n.Holds(template) }
	if slices.ContainsFunc(nodes, holds) {
		open = slices.DeleteFunc(open, func(n Node) bool { return !holds(n) })
	} else {
		open = slices.DeleteFunc(open, func(n Node) bool { return n.Name != self })
	}
	if len(open) == 0 {
		return Node{}, fmt.Errorf("%w: no node has room for a sandbox of %q: %s; destroy or pause sandboxes, uncordon a node or add one", errdefs.ErrResourceExhausted, template, whyFull(nodes, self, template, now))
	}
	best := open[0]
	for _, n := range open[1:] {
		if load(n) < load(best) || load(n) == load(best) && n.Name == self {
			best = n
		}
	}
	return best, nil
}

// load is the share of a node's slots in use.
func load(n Node) float64 { return float64(n.Sandboxes) / float64(max(n.Slots, 1)) }

// whyFull says, node by node, why none can take a sandbox.
func whyFull(nodes []Node, self, template string, now time.Time) string {
	if len(nodes) == 0 {
		return "no node is registered"
	}
	var why []string
	for _, n := range nodes {
		switch st := n.Status(now); {
		case st != Ready:
			why = append(why, fmt.Sprintf("%s is %s", n.Name, st))
		case n.Sandboxes >= n.Slots:
			why = append(why, fmt.Sprintf("%s runs %d of its %d sandboxes", n.Name, n.Sandboxes, n.Slots))
		case !n.Holds(template) && n.Name != self:
			why = append(why, fmt.Sprintf("%s does not hold the template", n.Name))
		}
	}
	return strings.Join(why, ", ")
}
