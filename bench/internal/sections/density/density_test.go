package density

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func TestReport(t *testing.T) {
	s := &Section{Config: Config{Max: 2000, Batch: 4, FloorPct: 15, Template: "base", Subnet: "10.250.0.0/16"}, Cores: 8,
		Reached: 10, Stop: "the cap, -density-max 10", Answered: 10, Create: stats.Samples{time.Second},
		AvailStart: 20 << 30, AvailFull: 20<<30 - 100<<20, MemTotal: 32 << 30, CgroupMem: stats.Sizes{8 << 20, 9 << 20},
		Paused: 10, Pause: stats.Samples{300 * time.Millisecond}, AvailPaused: 20<<30 - 50<<20,
		PausedDisk: stats.Sizes{20 << 20}, PauseImage: stats.Sizes{15 << 20}, DiskFree: 200 << 20,
		Leaks: []string{"density sandbox x: cgroup"}}
	p := reporttest.Render(t, s,
		"| sandboxes running at once | **10**; it stopped at the cap, -density-max 10 |\n",
		"| memory per running sandbox, its cgroup (as the daemon's metrics count it) | median **8.0 MiB** (8.0 MiB to 9.0 MiB, 2 sandboxes) |\n",
		"| memory per running sandbox, host | **10.0 MiB** (MemAvailable fell by 0.1 GiB for 10 sandboxes) |\n",
		"| projection: idle sandboxes that fit in memory (MemAvailable at start / memory per sandbox) | **2048** at the host's figure, 2560 at the cgroup median (but one server's bridge takes at most 1024) |\n",
		"| paused | 10 of 10; `client.Pause`, 4 at a time: p50 300.0 ms, p99 300.0 ms; all in 0.0 s |\n",
		"| host memory freed by pausing | 0.0 GiB, 5.0 MiB per sandbox (MemAvailable 20.0 GiB with all paused) |\n",
		"| projection: paused sandboxes the data directory's disk keeps | **10** more at that size (0.2 GiB free with all paused), 20 in all |\n",
		"| left behind | **density sandbox x: cgroup** |\n",
	)
	if strings.Contains(p.Results, "resumed again") {
		t.Error("no resume was tried; the row should be left out")
	}
	reporttest.Contains(t, p.Method, "stops when it is below 15% of MemTotal", "a Linux bridge takes at most 1024)")
}
