package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// samples are the durations measured for one system.
type samples []time.Duration

// percentile returns the nearest-rank p-th percentile (0 < p <= 100): the
// smallest sample that at least p% of the samples do not exceed. With 20
// samples p99 is the maximum.
func (s samples) percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func (s samples) p50() time.Duration { return s.percentile(50) }
func (s samples) p99() time.Duration { return s.percentile(99) }

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// phase is one timed step inside a measurement.
type phase struct {
	name string
	d    time.Duration
}

// phaseSet collects phase samples by name, keeping the order names first
// appeared in.
type phaseSet struct {
	names []string
	by    map[string]samples
}

func (p *phaseSet) add(ph []phase) {
	if p.by == nil {
		p.by = map[string]samples{}
	}
	for _, x := range ph {
		if _, ok := p.by[x.name]; !ok {
			p.names = append(p.names, x.name)
		}
		p.by[x.name] = append(p.by[x.name], x.d)
	}
}
