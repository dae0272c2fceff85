package templates

import (
	"embed"
	"fmt"

	"github.com/runtools/runtools/bench/internal/report"
)

// Report renders the build table, the create comparison and the method.
func (s *Section) Report() (report.Part, error) {
	return report.Render(templates, report.Views{Results: view{s, importLayers}, Targets: s.targets()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

type view struct {
	*Section
	ImportLayers int
}

// ImportMBps is the import's throughput in MB (10^6 bytes) per second.
func (v view) ImportMBps() float64 { return float64(v.ArchiveBytes) / 1e6 / v.Imported.Seconds() }

// CustomToBase is the custom template's create-to-first-exec p50 over
// base's; 0 if either has no samples.
func (s *Section) CustomToBase() float64 {
	if c := s.Create; len(c) == 2 && len(c[0].Samples) > 0 && len(c[1].Samples) > 0 {
		return report.Ratio(c[0].Samples.P50(), c[1].Samples.P50())
	}
	return 0
}

func (s *Section) targets() []report.Target {
	x := s.CustomToBase()
	if x == 0 {
		return nil
	}
	c := s.Create
	return []report.Target{{Goal: "create-to-first-exec from a custom template p50 within 10% of base's, same run",
		Measured: fmt.Sprintf("%s vs %s: %.2fx", report.MS(c[0].Samples.P50()), report.MS(c[1].Samples.P50()), x), Verdict: report.Verdict(x <= 1.1)}}
}
