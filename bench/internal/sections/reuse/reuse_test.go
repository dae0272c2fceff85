package reuse

import (
	"strings"
	"testing"

	"github.com/runtools/runtools/bench/internal/report/reporttest"
)

func TestReport(t *testing.T) {
	p := reporttest.Render(t, &Section{Verdict: "MISS", Detail: "Create had not returned after 3s"})
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "Create had not returned after 3s", Verdict: "MISS"})
	if len(p.Notes) != 1 || !strings.HasPrefix(p.Notes[0], "**Daemon bug: a sandbox that reuses a freed address is unreachable for 20-30 s.**") ||
		!strings.HasSuffix(p.Notes[0], "Check result: Create had not returned after 3s.") {
		t.Errorf("notes: %q", p.Notes)
	}
	if p, _ := (&Section{Verdict: "PASS", Detail: "fine"}).Report(); len(p.Notes) != 0 || len(p.Targets) != 1 {
		t.Errorf("a pass has its target and no note: %+v", p)
	}
	if p, _ := (&Section{}).Report(); len(p.Targets) != 0 {
		t.Errorf("a check that did not run has no target: %+v", p.Targets)
	}
}
