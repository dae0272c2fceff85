package reporttest

import (
	"testing"

	"github.com/runtools/runtools/bench/internal/report"
)

// recorder notes whether a check failed, in place of the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }

func TestChecks(t *testing.T) {
	got := []report.Target{{Goal: "g", Measured: "1 ms", Verdict: "PASS"}, {Goal: "h", Measured: "2 ms", Verdict: "MISS"}}
	for _, tc := range []struct {
		name  string
		check func(testing.TB)
		fails bool
	}{
		{"all there", func(t testing.TB) { Contains(t, "abc", "a", "bc") }, false},
		{"one lacking", func(t testing.TB) { Contains(t, "abc", "a", "x") }, true},
		{"fields set", func(t testing.TB) { Targets(t, got, Target{Verdict: "PASS"}, Target{Measured: "2 ms"}) }, false},
		{"field differs", func(t testing.TB) { Targets(t, got, Target{Verdict: "PASS"}, Target{Verdict: "PASS"}) }, true},
		{"count differs", func(t testing.TB) { Targets(t, got, Target{}) }, true},
	} {
		r := &recorder{TB: t}
		if tc.check(r); r.failed != tc.fails {
			t.Errorf("%s: failed %v, want %v", tc.name, r.failed, tc.fails)
		}
	}
}
