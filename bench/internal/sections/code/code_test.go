package code

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func measured() *Section {
	s := &Section{Config: Config{Runs: 2, FirstRuns: 1}, Took: 42 * time.Second, Interp: 900 * time.Millisecond,
		Python: "Python 3.11.2, httpx 0.23.3", Warm: []*measure.Result{
			{Name: nameGoExec, Samples: reporttest.MS(20, 30)}, {Name: namePyExec, Samples: reporttest.MS(30, 60)}, {Name: nameRunCode, Samples: reporttest.MS(40, 50)}}}
	s.First.Add([]stats.Phase{{Name: phFirstResult, D: 1500 * time.Millisecond}, {Name: phFirstCreate, D: 400 * time.Millisecond},
		{Name: phFirstCell, D: 1100 * time.Millisecond}})
	return s
}

func TestReport(t *testing.T) {
	p := reporttest.Render(t, measured(),
		"\n### Code interpreter and the Python SDK\n\nThe section took 42s. Warm calls in one sandbox of the `code` template, 2 runs of each, in alternating batches:\n\n",
		"|---|---:|---:|---:|\n| exec `true`, Go SDK (`client.Exec`) | 20.0 ms | 30.0 ms | 2 |\n| exec `true`, Python SDK (`Sandbox.exec`) | 30.0 ms | 60.0 ms | 2 |\n",
		"\nPython SDK (Python 3.11.2, httpx 0.23.3) against Go SDK: 1.50x at p50, 2.00x at p99.\nrun_code p50 − exec p50 (Go SDK): 20.0 ms. The first run_code in the sandbox, which started the interpreter (not counted): 900.0 ms.\n\nTime to the first result on a fresh `code` sandbox, 1 runs:\n\n",
		"| create: `client.Create` returns (sandbox running, agent answering) | 400.0 ms | 400.0 ms | 1 |\n| first cell: from Create's return until the result of `1+1` (starts the interpreter) | 1100.0 ms | 1100.0 ms | 1 |\n",
	)
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "40.0 ms vs 20.0 ms + 15.0 ms = 35.0 ms", Verdict: "MISS"})
	if !strings.HasPrefix(p.Method, "- **Code interpreter and the Python SDK** (runtools only)") || !strings.Contains(p.Method, "a batch of 2 runs on each side") {
		t.Errorf("method: %.300s", p.Method)
	}
}

func TestReportPythonDroppedAndNoFirstRuns(t *testing.T) {
	s := measured()
	s.Warm[1] = &measure.Result{Name: namePyExec, Dropped: "the Python side: EOF:\nModuleNotFoundError | x"}
	s.Warm[2].Samples = reporttest.MS(30, 40)
	s.First, s.FirstSkipped = stats.PhaseSet{}, "left out with -code-first-runs=0"
	p := reporttest.Render(t, s,
		"| exec `true`, Python SDK (`Sandbox.exec`) | — | — | dropped: the Python side: EOF: ModuleNotFoundError \\| x |\n",
		"(not counted): 900.0 ms.\n\nTime to the first result on a fresh sandbox: not measured: left out with -code-first-runs=0.\n",
	)
	if strings.Contains(p.Results, "Python SDK against Go SDK") {
		t.Errorf("no ratio without Python samples:\n%s", p.Results)
	}
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "30.0 ms vs 20.0 ms + 15.0 ms = 35.0 ms", Verdict: "PASS"})
}

func TestReportNotMeasured(t *testing.T) {
	why := "the `code` template is missing; build it with `runtools server build-templates code`"
	p := reporttest.Render(t, &Section{Config: Config{Runs: 100}, Skipped: why},
		"\n### Code interpreter and the Python SDK\n\nNot measured: "+why+".\n")
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "not measured: " + why, Verdict: "N/A"})
	if p, _ := (&Section{Skipped: "left out with -code-runs=0"}).Report(); p.Method != "" {
		t.Errorf("a section left out should have no method: %q", p.Method)
	}
}

func TestAlternate(t *testing.T) {
	measure.SettleTime = 0
	var order []int
	call := func(k int) func(ctx context.Context) error {
		return func(context.Context) error { order = append(order, k); return nil }
	}
	res := [2]*measure.Result{{Name: "a"}, {Name: "b"}}
	if err := alternate(context.Background(), 3, [2]func(context.Context) error{call(0), call(1)}, res); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 1, 0, 0, 1}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if len(res[0].Samples) != 3 || len(res[1].Samples) != 3 {
		t.Errorf("samples %v %v, want 3 each", res[0].Samples, res[1].Samples)
	}
}
