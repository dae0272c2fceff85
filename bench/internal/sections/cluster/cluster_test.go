package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

func TestBurst(t *testing.T) {
	var b Burst
	b.Wall = 2 * time.Second
	for i, n := range []string{"n2", "n1", "n2"} {
		b.add(outcome{node: n, create: time.Duration(i+1) * time.Second, whole: time.Duration(i+2) * time.Second})
	}
	b.add(outcome{err: errors.New("create: boom")})
	b.add(outcome{err: errors.New("later")})
	if b.Failures != 2 || b.FirstErr != "create: boom" || len(b.Create) != 3 || len(b.CreateExec) != 3 {
		t.Errorf("burst: %+v", b)
	}
	if got := b.Rate(); got != 1.5 {
		t.Errorf("rate %v, want 3 answered over 2 s", got)
	}
	if got := b.PlacedText(); got != "n1 1, n2 2" {
		t.Errorf("placed %q", got)
	}
	if (Burst{}).Rate() != 0 {
		t.Error("an empty burst has a rate")
	}
}

func TestDrain(t *testing.T) {
	d := Drain{Total: 6 * time.Second, Moved: 2}
	d.add(client.DrainEvent{Sandbox: "a", To: "n3", AwayMS: 1500})
	d.add(client.DrainEvent{Sandbox: "b", To: "n2", AwayMS: 2500})
	d.add(client.DrainEvent{Sandbox: "c", Error: "no room"})
	if d.ToText() != "n2 1, n3 1" || d.Away.P50() != 1500*time.Millisecond || len(d.Errors) != 1 || d.Errors[0] != "c: no room" {
		t.Errorf("drain: %+v", d)
	}
	if d.PerSandbox() != 3*time.Second || (Drain{}).PerSandbox() != 0 {
		t.Errorf("per sandbox: %v", d.PerSandbox())
	}
}

func TestReport(t *testing.T) {
	var moves stats.PhaseSet
	moves.Add([]stats.Phase{{Name: phPause, D: 200 * time.Millisecond}, {Name: phMove, D: 1500 * time.Millisecond}, {Name: phLocal, D: 500 * time.Millisecond}})
	s := &Section{Config: Config{Creates: 3, ExecRuns: 2, MoveRuns: 1, Drain: 2, Template: "base"}, Took: time.Minute,
		One:     Burst{Nodes: 1, Sandboxes: 3, Wall: 3 * time.Second, Create: reporttest.MS(900, 1000, 1100), CreateExec: reporttest.MS(950, 1050, 1150), Placed: map[string]int{"n1": 3}},
		Three:   Burst{Nodes: 3, Sandboxes: 3, Wall: 2 * time.Second, Create: reporttest.MS(800, 900), CreateExec: reporttest.MS(850, 950), Failures: 1, FirstErr: "create: a | b", Placed: map[string]int{"n1": 1, "n2": 1}},
		Forward: []*measure.Result{{Name: nameOwner, Samples: reporttest.MS(30, 40)}, {Name: nameForwarded, Samples: reporttest.MS(32, 45)}},
		Moves:   moves, PauseImages: stats.Sizes{20 << 20}, Stored: stats.Sizes{10 << 20},
		Drain: Drain{Node: "n1", Sandboxes: 2, Total: 4 * time.Second, Away: reporttest.MS(1800, 2000), Moved: 2, To: map[string]int{"n2": 2}}}
	p := reporttest.Render(t, s,
		"| 1 | 1.00 | 3.0 s | 1000.0 ms | 1100.0 ms | 1050.0 ms | 1150.0 ms | 0 | n1 3 |\n",
		"| 3 | 1.00 | 2.0 s | 800.0 ms | 900.0 ms | 850.0 ms | 950.0 ms | 1 (first: create: a \\| b) | n1 1, n2 1 |\n",
		"Forwarded minus direct: 2.0 ms at p50, 5.0 ms at p99.",
		"A resume on another node takes 3.00x a local one at p50 (1000.0 ms more). The pause image was 20.0 MiB on the node's disk, the stored object 10.0 MiB",
		"the whole drain took 4.0 s, 2000.0 ms per sandbox; each sandbox was away (from its pause to its resume elsewhere, the drain's `away_ms`) 1800.0 ms at p50, 2000.0 ms at most. Moved 2 (n2 2), failed 0.")
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "0 and 1 failed", Verdict: "MISS"},
		reporttest.Target{Measured: "2 of 2 moved, 0 failed", Verdict: "PASS"})
	reporttest.Contains(t, p.Method, "10.253.0.0/20, 10.253.16.0/20, 10.253.32.0/20", "1 uncounted and 1 counted rounds")

	partial := &Section{Config: s.Config, One: s.One, Three: s.Three, Forward: s.Forward, Failed: "cross-node resume: boom"}
	p = reporttest.Render(t, partial, "Forwarded minus direct: 2.0 ms", "**Not measured from there on**: failed: cross-node resume: boom.")
	if strings.Contains(p.Results, "Cross-node resume") || strings.Contains(p.Results, "*Drain*") {
		t.Errorf("a partial run shows what it did not measure:\n%s", p.Results)
	}
	reporttest.Targets(t, p.Targets, reporttest.Target{Verdict: "MISS"}, reporttest.Target{Measured: "not measured: failed: cross-node resume: boom", Verdict: "N/A"})

	skipped := &Section{Config: s.Config, Skipped: "no weed"}
	p = reporttest.Render(t, skipped, "Not measured: no weed.")
	reporttest.Targets(t, p.Targets, reporttest.Target{Verdict: "N/A"}, reporttest.Target{Verdict: "N/A"})
}

func TestOwnName(t *testing.T) {
	for name, want := range map[string]bool{"rtbc1": true, "rtbc3-1a2b3c4d": true, "rtbc2-sandbox-x": true, "rtbench0": false, "rtbc4": false, "rtbc10": false} {
		if ownName(name) != want {
			t.Errorf("ownName(%q) = %v", name, !want)
		}
	}
}
