package density

import (
	"embed"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
)

// Report renders the section's table, and its method unless it was left
// out.
func (s *Section) Report() (report.Part, error) {
	v := s.view()
	return report.Render(templates, report.Views{Results: v, Method: v})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

// view is the section with the figures its table works out, and its
// constants.
type view struct {
	*Section
	MemFell      int64 // MemAvailable's fall with all running
	HostPer      int64 // of it, per sandbox; 0 if none ran
	CgroupMedian int64
	FitHost      int64 // sandboxes that fit in MemAvailable at start, at the host's figure
	FitCgroup    int64 // the same at the cgroup median
	Freed        int64 // memory pausing freed
	FreedPer     int64 // of it, per paused sandbox
	DiskMedian   int64 // disk per paused sandbox
	DiskMore     int64 // paused sandboxes more the disk keeps
	DiskAll      int64 // and with those paused already

	Rest                           time.Duration
	Resumes, DestroyAtOnce         int
	BridgePorts                    int64
	CgroupMemoryRoot, CgroupV2Root string
	Template, Subnet               string
	Batch, Floor, Max              int
}

func (s *Section) view() view {
	c := s.Config
	v := view{Section: s, MemFell: s.AvailStart - s.AvailFull, CgroupMedian: s.CgroupMem.Median(),
		Freed: s.AvailPaused - s.AvailFull, DiskMedian: s.PausedDisk.Median(),
		Rest: rest, Resumes: resumes, DestroyAtOnce: destroyAtOnce, BridgePorts: bridgePorts,
		CgroupMemoryRoot: cgroupMemoryRoot, CgroupV2Root: cgroupV2Root,
		Template: c.Template, Subnet: c.Subnet, Batch: c.Batch, Floor: c.FloorPct, Max: c.Max}
	if s.Reached > 0 {
		v.HostPer = v.MemFell / int64(s.Reached)
	}
	if v.HostPer > 0 {
		v.FitHost = s.AvailStart / v.HostPer
	}
	if v.CgroupMedian > 0 {
		v.FitCgroup = s.AvailStart / v.CgroupMedian
	}
	if s.Paused > 0 {
		v.FreedPer = v.Freed / int64(s.Paused)
	}
	if v.DiskMedian > 0 {
		v.DiskMore = s.DiskFree / v.DiskMedian
		v.DiskAll = int64(s.Paused) + v.DiskMore
	}
	return v
}
