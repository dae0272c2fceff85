package compare

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func phases(kv ...any) stats.PhaseSet {
	var p stats.PhaseSet
	for i := 0; i < len(kv); i += 2 {
		p.Add([]stats.Phase{{Name: kv[i].(string), D: time.Duration(kv[i+1].(float64) * float64(time.Millisecond))}})
	}
	return p
}

func TestCreateReport(t *testing.T) {
	s := &Create{Config: Config{Runs: 3, Template: "base"}, Comparison: Comparison{Platform: "systrap", PodmanWhy: "podman is not usable",
		Results: []*measure.Result{
			{Name: measure.Runtools, Samples: reporttest.MS(500, 520, 510), Teardown: reporttest.MS(200), Phases: phases(
				"record + network setup", 4.5, "runsc run + agent ready", 430.0, "first exec", 60.0)},
			{Name: measure.RawNet, Samples: reporttest.MS(400, 410, 420), Phases: phases("netns + veth (3 ip calls)", 20.0, "bundle + runsc run", 320.0,
				"first exec (runsc exec)", 65.0)},
			{Name: RawNone, Samples: reporttest.MS(300), Teardown: reporttest.MS(1500)},
		}}}
	p := reporttest.Render(t, s,
		"\n### Create to first exec (3 runs per system)\n\n| system | p50 | p99 | runs |\n",
		"| runtools (Go SDK) | 510.0 ms | 520.0 ms | 3 |\n",
		"| podman + runsc | — | — | did not run: podman is not usable |\n\nWhere the time goes",
		"| runtools (Go SDK) | runsc run + agent ready | 430.0 ms | 430.0 ms |\n| runtools (Go SDK) | first exec | 60.0 ms | 60.0 ms |\n| runtools (Go SDK) | (teardown, not in the total) | 200.0 ms | 200.0 ms |\n",
	)
	if !strings.HasPrefix(p.Lead, "All systems run the same root filesystem (the base template the daemon resolved), on the same gVisor platform (systrap)") {
		t.Errorf("lead: %.200s", p.Lead)
	}
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "510.0 ms vs 410.0 ms: 1.24x", Verdict: "PASS"},
		reporttest.Target{Measured: "podman did not run: podman is not usable", Verdict: "N/A"})
	if len(p.Notes) != 2 || !strings.Contains(p.Notes[0], "`runsc run` until the agent answers takes 430.0 ms against 320.0 ms for `runsc run` alone. The first exec (60.0 ms)") ||
		!strings.HasPrefix(p.Notes[1], "Teardown is in no total and no target, but it is slow: a runtools Destroy takes 200.0 ms (p50) and `runsc delete --force` 1500.0 ms. By hand") {
		t.Errorf("notes: %q", p.Notes)
	}
}

func TestExecReport(t *testing.T) {
	s := &Exec{Config: Config{ExecRuns: 2}, Comparison: Comparison{Results: []*measure.Result{
		{Name: measure.Runtools, Samples: reporttest.MS(20, 21)}, {Name: Agent, Samples: reporttest.MS(15, 16)},
		{Name: measure.RawNet, Samples: reporttest.MS(60, 61)}, {Name: Spawn, Samples: reporttest.MS(18, 19)},
	}}}
	p := reporttest.Render(t, s)
	if want := "\n### Exec of `true` in a running sandbox (2 runs per system)\n\n| system | p50 | p99 | runs |\n|---|---:|---:|---:|\n| runtools (Go SDK) | 20.0 ms | 21.0 ms | 2 |\n"; !strings.HasPrefix(p.Results, want) {
		t.Errorf("results:\n%s", p.Results)
	}
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "20.0 ms vs 18.0 ms + 3 ms = 21.0 ms", Verdict: "PASS"},
		reporttest.Target{Measured: "20.0 ms vs 60.0 ms: 3.00x faster", Verdict: "PASS"})
	if want := "Exec: of the runtools round trip (20.0 ms p50), spawning `true` inside gVisor is 18.0 ms; the agent's HTTP exec stream adds -3.0 ms on top (agent direct: 15.0 ms) and the API server's hop 5.0 ms."; len(p.Notes) != 1 || p.Notes[0] != want {
		t.Errorf("notes: %q", p.Notes)
	}
	if s.Runtools() == nil || (&Exec{}).Runtools() != nil {
		t.Error("Runtools")
	}
}
