// Package reporttest renders a section's part of the report in its tests,
// and checks the texts and targets the part holds.
package reporttest

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Reporter is what renders a part: every section.
type Reporter interface {
	Report() (report.Part, error)
}

// Render returns r's part, and stops the test if it could not render. It
// fails the test for each of results the part's Results lack.
func Render(t testing.TB, r Reporter, results ...string) report.Part {
	t.Helper()
	p, err := r.Report()
	if err != nil {
		t.Fatal(err)
	}
	Contains(t, p.Results, results...)
	return p
}

// Contains fails the test for each of wants that text lacks.
func Contains(t testing.TB, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
}

// Target is a target a test wants: a field left empty is not checked.
type Target report.Target

// Targets fails the test unless got has as many targets as want, each
// with the fields its wanted one sets.
func Targets(t testing.TB, got []report.Target, want ...Target) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		g, w := got[i], want[i]
		ok = (w.Goal == "" || g.Goal == w.Goal) && (w.Measured == "" || g.Measured == w.Measured) &&
			(w.Verdict == "" || g.Verdict == w.Verdict)
	}
	if !ok {
		t.Errorf("targets:\n%+v\nwant (empty fields unchecked):\n%+v", got, want)
	}
}

// MS is samples of these many milliseconds, for made-up results.
func MS(ms ...float64) stats.Samples {
	var s stats.Samples
	for _, x := range ms {
		s = append(s, time.Duration(x*float64(time.Millisecond)))
	}
	return s
}
