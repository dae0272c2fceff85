package ssh

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/sections/compare"
	"github.com/runtools/runtools/bench/internal/stats"
)

func TestReport(t *testing.T) {
	exec := &compare.Exec{Comparison: compare.Comparison{Results: []*measure.Result{{Name: measure.Runtools, Samples: stats.Samples{30 * time.Millisecond}}}}}
	s := &Section{Config: Config{Runs: 2, ScpMB: 100, ScpRuns: 3}, Exec: exec, Took: 65 * time.Second, Version: "OpenSSH_9.2p1",
		SSHTrue:  stats.Samples{200 * time.Millisecond, 220 * time.Millisecond},
		Transfer: Transfer{Runs: 1, MB: 100, Methods: []string{xfCp, xfScpUp}, Times: map[string]stats.Samples{xfScpUp: {time.Second}}}}
	p := reporttest.Render(t, s,
		"\n### SSH gateway, with the OpenSSH client\n\nThe section took 1m5s.\n\n",
		"| `ssh ID@127.0.0.1 true` (a new connection each) | 200.0 ms | 220.0 ms | 2 |\n| (for comparison: exec of `true` through the Go SDK, from the exec section) | 30.0 ms | 30.0 ms | 1 |\n",
		"\nFile transfers of 100 MiB of random data (1 rounds; MB is 10^6 bytes; MB/s from the median time):\n\n",
		"|---|---:|---:|---:|---:|\n| `scp` upload (SFTP protocol, OpenSSH's default) | 105 | 1000.0 ms | 1000.0 ms | 1000.0 ms |\n",
	)
	if strings.Contains(p.Results, "login to prompt") || strings.Contains(p.Results, "local `cp`") {
		t.Errorf("rows without samples should be left out:\n%s", p.Results)
	}
	if !strings.HasPrefix(p.Method, "- **SSH gateway**:") || !strings.Contains(p.Method, "(OpenSSH_9.2p1, SFTP protocol by default)") {
		t.Errorf("method: %.300s", p.Method)
	}
}
