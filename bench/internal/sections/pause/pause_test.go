package pause

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
)

func msd(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

func phases(kv ...any) stats.PhaseSet {
	var p stats.PhaseSet
	var ph []stats.Phase
	for i := 0; i < len(kv); i += 2 {
		ph = append(ph, stats.Phase{Name: kv[i].(string), D: msd(kv[i+1].(float64))})
	}
	p.Add(ph)
	return p
}

func cycle(rtPause, rtResume, checkpoint, rawResume float64) Cycle {
	return Cycle{Runs: 1, Results: []*measure.Result{
		{Name: measure.Runtools, Phases: phases(server.PhPause, rtPause, server.PauseImagePhases[0], 100.0, server.PhResume, rtResume)},
		{Name: measure.RawNet, Phases: phases(PhCheckpoint, checkpoint, PhRawResume, rawResume, PhRestore, rawResume-10)},
	}, Images: map[string]int64{measure.Runtools: 10 << 20}}
}

func TestTables(t *testing.T) {
	tb := cycle(200, 400, 150, 380).Tables("Sizes")
	var heads []string
	for _, r := range tb.Headline {
		heads = append(heads, r.Phase)
	}
	// Pauses before resumes, runtools before raw, whatever order they were measured in.
	if want := []string{server.PhPause, PhCheckpoint, server.PhResume, PhRawResume}; strings.Join(heads, "|") != strings.Join(want, "|") {
		t.Errorf("headline rows %q, want %q", heads, want)
	}
	if len(tb.Parts) != 2 || tb.Parts[0].Phase != server.PauseImagePhases[0] || tb.Parts[1].Phase != PhRestore {
		t.Errorf("parts: %+v", tb.Parts)
	}
	if len(tb.Sizes) != 1 || tb.Sizes[0].Bytes != 10<<20 {
		t.Errorf("sizes: %+v (a system without an image size has none)", tb.Sizes)
	}
}

func TestReport(t *testing.T) {
	s := &Section{Config: Config{Template: "base", RawBridge: "rtbench1"}, Pause: cycle(200, 400, 150, 380),
		Big:       Cycle{HoldMB: 140, Runs: 5, Skipped: "left out with -big-runs=0"},
		Snap:      Cycle{Runs: 10, Skipped: "left out with -snapshot-runs=0"},
		PauseTook: 90 * time.Second}
	p := reporttest.Render(t, s,
		"\n### Pause and resume of a sandbox running a Node.js HTTP server (1 runs per system)\n\n| system | operation | p50 | p99 | runs |\n",
		"| runtools (Go SDK) | pause (`client.Pause`) | 200.0 ms | 200.0 ms | 1 |\n| raw runsc + netns | pause: `runsc checkpoint` | 150.0 ms | 150.0 ms | 1 |\n",
		"\nCheckpoint image size (p50): runtools (Go SDK) 10.0 MiB.\n",
		"\n### Pause and resume holding 140 MiB more\n\nNot measured: left out with -big-runs=0.\n\n### Snapshot, rollback and fork\n\nNot measured: left out with -snapshot-runs=0.\n",
	)
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "200.0 ms vs 150.0 ms: 1.33x", Verdict: "MISS"},
		reporttest.Target{Verdict: "PASS"}, reporttest.Target{Measured: "400.0 ms", Verdict: "PASS"})
	if len(p.Notes) != 3 || !strings.HasPrefix(p.Notes[0], "Pause: runtools takes 200.0 ms (p50) against 150.0 ms for `runsc checkpoint` alone, 50.0 ms more. Until runsc has written the image takes 100.0 ms") ||
		!strings.HasPrefix(p.Notes[1], "Resume: runtools takes 400.0 ms (p50) against 380.0 ms") ||
		p.Notes[2] != "Duration: the pause/resume and snapshot runs took 1m30s of the bench, the large case 0s." {
		t.Errorf("notes: %q", p.Notes)
	}
	reporttest.Contains(t, p.Method, "`http.createServer(...).listen(3000)`", "on `rtbench1` pinned")
	if got := s.RuntoolsResumeP50(); got != 400*time.Millisecond {
		t.Errorf("RuntoolsResumeP50 = %v", got)
	}
}

func TestTargetsWhenDropped(t *testing.T) {
	s := &Section{Pause: cycle(200, 400, 150, 380)}
	s.Pause.Results[0].Dropped = "failed in round 2: boom"
	for _, tg := range s.targets() {
		if tg.Verdict != "N/A" || tg.Measured != "not measured: a system was dropped; see the table" {
			t.Errorf("target %+v, want N/A", tg)
		}
	}
}
