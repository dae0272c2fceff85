package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func lat(ms float64, n int) stats.Samples {
	s := make(stats.Samples, n)
	for i := range s {
		s[i] = time.Duration(ms * float64(time.Millisecond))
	}
	return s
}

func TestReport(t *testing.T) {
	s := &Section{Config: Config{Seconds: 5, Conns: 16, WakeRuns: 2}, Took: 40 * time.Second,
		Load: []LoadResult{
			{Name: epDirect, Conns: 16, Requests: 10000, Elapsed: 5 * time.Second, Lat: lat(2, 10), DaemonCPU: 10 * time.Millisecond},
			{Name: epProxy, Conns: 16, Requests: 9000, Elapsed: 5 * time.Second, Lat: lat(3, 10), DaemonCPU: 900 * time.Millisecond,
				Errors: 2, FirstErr: "answered 502"},
		},
		Seq: []LoadResult{
			{Name: epDirect, Conns: 1, Requests: 5000, Elapsed: 5 * time.Second, Lat: lat(1, 10)},
			{Name: epProxy, Conns: 1, Requests: 2000, Elapsed: 5 * time.Second, Lat: lat(2.5, 10)},
		},
		WakeSkipped: "left out with -wake-runs=0"}
	p := reporttest.Render(t, s,
		"(5 s per endpoint and load)\n\nThe section took 40s.\n\n",
		"| through the proxy (Host `3000-ID.sandboxes.localhost:PORT`) | 16 | 1800 | 3.00 ms | 3.00 ms | 9000 | 2 | 100 µs |\n",
		"\nWith 16 connections the proxy keeps 90% of the direct throughput and adds 1.00 ms at p50, 1.00 ms at p99.\n",
		"\nWith 1 connection the proxy keeps 40% of the direct throughput and adds 1.50 ms at p50, 1.50 ms at p99.\n",
		"\nthrough the proxy (Host `3000-ID.sandboxes.localhost:PORT`), 16 connections: first error: answered 502\n",
		"\nWake of a paused sandbox by a request: not measured: left out with -wake-runs=0.\n",
	)
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "1800 vs 2000 requests/s: 90%", Verdict: "PASS"},
		reporttest.Target{Measured: "p99 3.00 ms vs 2.00 ms: 1.00 ms added", Verdict: "PASS"}, reporttest.Target{Verdict: "PASS"})
	if !strings.HasPrefix(p.Method, "- **Dev-server proxy**:") || !strings.Contains(p.Method, "first gets 500ms of uncounted load") {
		t.Errorf("method: %.200s", p.Method)
	}
}

func TestSkipped(t *testing.T) {
	p := reporttest.Render(t, &Section{Config: Config{Conns: 16}, Skipped: "failed: no\nURL"})
	if p.Results != "\n### Dev-server proxy\n\nNot measured: failed: no URL.\n" {
		t.Errorf("results: %q", p.Results)
	}
	reporttest.Targets(t, p.Targets, reporttest.Target{}, reporttest.Target{}, reporttest.Target{Measured: "not measured: failed: no URL", Verdict: "N/A"})
}
