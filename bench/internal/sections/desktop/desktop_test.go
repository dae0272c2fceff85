package desktop

import (
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
)

func TestReport(t *testing.T) {
	var cycle stats.PhaseSet
	for range 2 {
		cycle.Add([]stats.Phase{{Name: server.PhPause, D: 800 * time.Millisecond}, {Name: server.PauseImagePhases[0], D: 600 * time.Millisecond},
			{Name: server.PhResume, D: 860 * time.Millisecond}, {Name: phUsable, D: time.Second}})
	}
	s := &Section{Config: Config{Runs: 1, PauseRuns: 2}, Platform: "systrap", Cycle: cycle, Launch: 2 * time.Second, Window: `Mozilla "Firefox"`,
		FirefoxSeen: 1, FirefoxMissing: `"xterm"`, ShotSkipped: "left out with -desktop-shot-runs=0"}
	p := reporttest.Render(t, s,
		"\nScreenshots: not measured: left out with -desktop-shot-runs=0.\n\n#### Pause and resume with Firefox open (2 runs)\n\n",
		"returned after 2000.0 ms, with the window \"Mozilla \\\"Firefox\\\"\"; the bench then waited 3 s before the first pause.\n\n",
		"| pause (`client.Pause`) | 800.0 ms | 800.0 ms | 2 |\n| resume (`client.Resume`) | 860.0 ms | 860.0 ms | 2 |\n",
		"\n**Firefox's window was missing after a resume**: listed after 1 of 2; the first time without it the windows were \"xterm\".\n",
		"This run's p50: pause 800.0 ms (1.08x that checkpoint), resume 860.0 ms (1.00x that restore).\n",
		"| phase | p50 | p99 |\n|---|---:|---:|\n| pause: API, record, quiesce (5 ms), `runsc checkpoint` | 600.0 ms | 600.0 ms |\n",
	)
	reporttest.Contains(t, p.Method, "whatever its own platform (systrap here)")
	s.Config.Runs, s.Skipped = 0, "left out with -desktop-runs=0"
	if p, _ := s.Report(); p.Method != "" || p.Results != "\n### Desktop sandboxes\n\nNot measured: left out with -desktop-runs=0.\n" {
		t.Errorf("left out: %q, method %q", p.Results, p.Method)
	}
}
