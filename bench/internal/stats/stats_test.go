package stats

import (
	"slices"
	"testing"
	"time"
)

func ms(n ...int) Samples {
	var s Samples
	for _, x := range n {
		s = append(s, time.Duration(x)*time.Millisecond)
	}
	return s
}

func TestPercentile(t *testing.T) {
	twenty := ms(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	for _, tc := range []struct {
		name string
		s    Samples
		p    float64
		want time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of an even count is the lower middle", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p50 of an odd count is the middle", ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond},
		{"p99 of 20 is the slowest", twenty, 99, 20 * time.Millisecond},
		{"p95 of 20 is the 19th", twenty, 95, 19 * time.Millisecond},
		{"p90 of 20 is the 18th", twenty, 90, 18 * time.Millisecond},
		{"p100 is the slowest", twenty, 100, 20 * time.Millisecond},
		{"a tiny p is the fastest", twenty, 0.1, 1 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Percentile(tc.p); got != tc.want {
				t.Errorf("Percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestP50P99(t *testing.T) {
	var s Samples
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	orig := slices.Clone(s)
	if got := s.P50(); got != 50*time.Millisecond {
		t.Errorf("P50 = %v, want 50ms", got)
	}
	if got := s.P99(); got != 99*time.Millisecond {
		t.Errorf("P99 = %v, want 99ms (nearest rank of 100)", got)
	}
	if !slices.Equal(s, orig) {
		t.Error("the percentiles sorted the samples in place")
	}
	if s.Min() != time.Millisecond || s.Max() != 100*time.Millisecond {
		t.Errorf("Min, Max = %v, %v, want 1ms, 100ms", s.Min(), s.Max())
	}
	var none Samples
	if none.Min() != 0 || none.Max() != 0 || none.P99() != 0 {
		t.Error("no samples should give 0, not panic")
	}
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		s                 Sizes
		median, min, maxi int64
	}{
		{nil, 0, 0, 0},
		{Sizes{5}, 5, 5, 5},
		{Sizes{9, 1, 5}, 5, 1, 9},
		{Sizes{40, 10, 30, 20}, 20, 10, 40},
	} {
		if got := tc.s.Median(); got != tc.median {
			t.Errorf("%v.Median() = %d, want %d", tc.s, got, tc.median)
		}
		if tc.s.Min() != tc.min || tc.s.Max() != tc.maxi {
			t.Errorf("%v: Min, Max = %d, %d, want %d, %d", tc.s, tc.s.Min(), tc.s.Max(), tc.min, tc.maxi)
		}
	}
}

func TestPhaseSet(t *testing.T) {
	var p PhaseSet
	p.Add([]Phase{{"boot", 30 * time.Millisecond}, {"exec", 10 * time.Millisecond}})
	p.Add([]Phase{{"exec", 12 * time.Millisecond}, {"teardown", 5 * time.Millisecond}, {"boot", 20 * time.Millisecond}})
	if want := []string{"boot", "exec", "teardown"}; !slices.Equal(p.Names, want) {
		t.Errorf("Names = %v, want %v: the order each first appeared in", p.Names, want)
	}
	if got := p.Get("boot"); !slices.Equal(got, ms(30, 20)) {
		t.Errorf("boot = %v, want [30ms 20ms]", got)
	}
	if got := p.P50("exec"); got != 10*time.Millisecond {
		t.Errorf("P50(exec) = %v, want 10ms", got)
	}
	if got := p.P50("missing"); got != 0 {
		t.Errorf("P50 of a phase never added = %v, want 0", got)
	}
}
