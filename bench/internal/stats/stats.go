// Package stats holds the bench's statistics: nearest-rank percentiles of
// durations and of sizes, and timed phases collected by name.
package stats

import (
	"math"
	"slices"
	"time"
)

// Samples are the durations measured for one thing.
type Samples []time.Duration

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100): the
// smallest sample that at least p% of the samples do not exceed. With 20
// samples p99 is the maximum. It is 0 if there are no samples.
func (s Samples) Percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// P50 is the median, nearest rank.
func (s Samples) P50() time.Duration { return s.Percentile(50) }

// P99 is the 99th percentile, nearest rank.
func (s Samples) P99() time.Duration { return s.Percentile(99) }

// Min is the shortest sample; 0 if there are none.
func (s Samples) Min() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

// Max is the longest sample; 0 if there are none.
func (s Samples) Max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// Sizes are byte counts measured for one thing.
type Sizes []int64

// Median is the p50 (nearest rank); 0 if there are none.
func (s Sizes) Median() int64 {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	return sorted[(len(sorted)+1)/2-1]
}

// Min is the smallest size; 0 if there are none.
func (s Sizes) Min() int64 {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

// Max is the largest size; 0 if there are none.
func (s Sizes) Max() int64 {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// Phase is one timed step inside a measurement.
type Phase struct {
	Name string
	D    time.Duration
}

// PhaseSet collects phase samples by name, keeping the order the names
// first appeared in.
type PhaseSet struct {
	Names []string
	By    map[string]Samples
}

// Add records one measurement's phases.
func (p *PhaseSet) Add(ph []Phase) {
	if p.By == nil {
		p.By = map[string]Samples{}
	}
	for _, x := range ph {
		if _, ok := p.By[x.Name]; !ok {
			p.Names = append(p.Names, x.Name)
		}
		p.By[x.Name] = append(p.By[x.Name], x.D)
	}
}

// Get returns the samples of phase name; nil if there are none.
func (p PhaseSet) Get(name string) Samples { return p.By[name] }

// P50 is the p50 of phase name; 0 if there are no samples of it.
func (p PhaseSet) P50(name string) time.Duration { return p.By[name].P50() }
