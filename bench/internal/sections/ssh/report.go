package ssh

import (
	"embed"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Report renders the login table and the file transfer table.
func (s *Section) Report() (report.Part, error) {
	return report.Render(templates, report.Views{Results: s.view(), Method: methodView{s.Config, s.Version}})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

type methodView struct {
	Config
	Version string
}

// resultsView is the section with its comparison and transfer rows.
type resultsView struct {
	*Section
	Exec      *measure.Result // the exec section's runtools result; nil if none
	Transfers []transferRow
}

// transferRow is one transfer method's figures.
type transferRow struct {
	Method string
	MBps   float64 // MB (10^6 bytes) per second at the median time
	S      stats.Samples
}

func (s *Section) view() resultsView {
	v := resultsView{Section: s}
	if s.Exec != nil {
		v.Exec = s.Exec.Runtools()
	}
	size := int64(s.Transfer.MB) << 20
	for _, m := range s.Transfer.Methods {
		if t := s.Transfer.Times[m]; len(t) > 0 {
			v.Transfers = append(v.Transfers, transferRow{m, mbps(size, t.P50()), t})
		}
	}
	return v
}

// mbps is a throughput in MB/s (10^6 bytes) of n bytes in d.
func mbps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / 1e6 / d.Seconds()
}
