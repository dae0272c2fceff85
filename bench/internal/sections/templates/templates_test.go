package templates

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func TestReport(t *testing.T) {
	s := &Section{Config: Config{Runs: 1}, Cold: 90 * time.Second, Cached: 2 * time.Second, Steps: 8, CachedSteps: 6, Size: 2 << 20,
		ArchiveBytes: 100e6, Imported: 4 * time.Second, Create: []*measure.Result{
			{Name: "runtools, custom template", Samples: stats.Samples{660 * time.Millisecond}},
			{Name: "runtools, base", Samples: stats.Samples{600 * time.Millisecond}}}}
	p := reporttest.Render(t, s,
		"| cold (`--no-cache`), 8 steps | 90 s |\n| after changing one file of the last COPY (6 of 8 steps from the cache) | 2000.0 ms |\n",
		"| import of an image archive (docker save format, 6 random layers) | 4 s for 97656 KiB: 25.0 MB/s |\n\nThe template's own layers take 2048 KiB. Create to first exec, alternating, 1 runs each:\n\n",
		"| runtools, base | 600.0 ms | 600.0 ms | 1 |\n\nCustom against base at p50: 1.10x.\n",
	)
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "660.0 ms vs 600.0 ms: 1.10x", Verdict: "PASS"})
	if !strings.HasPrefix(p.Method, "**Custom templates.**") {
		t.Errorf("method: %.100s", p.Method)
	}
	s = &Section{Skipped: "failed: cold build: boom"}
	if p, _ := s.Report(); p.Results != "\n### Custom templates from a Dockerfile\n\nNot measured: failed: cold build: boom.\n" || p.Targets != nil {
		t.Errorf("failed: %q, targets %+v", p.Results, p.Targets)
	}
}
