package events

import (
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

func TestReport(t *testing.T) {
	st := func(name string, sandbox bool, recv float64) *Stream {
		s := &Stream{Name: name, Sandbox: sandbox, FromAt: reporttest.MS(1.5), FromCall: reporttest.MS(-0.25), ByState: map[string]stats.Samples{
			client.StatePausing: reporttest.MS(1), client.StatePaused: reporttest.MS(2), client.StateResuming: reporttest.MS(3), client.StateRunning: reporttest.MS(4)}}
		if sandbox {
			s.MetricsRecv, s.MetricsAt = reporttest.MS(recv), reporttest.MS(1000)
		}
		return s
	}
	s := &Section{Config: Config{Runs: 1, Template: "base"}, Calls: 2, Failures: []string{"pause: 409"}, Took: time.Minute,
		Streams: []*Stream{st(streamSandboxSSE, true, 1001), st(streamTeamWS, false, 0)}}
	p := reporttest.Render(t, s,
		"The section took 1m0s. One idle sandbox, watched on four streams at once; each round's pause and resume make four status events (pausing, paused, resuming, running), 4 per stream in all.",
		"| team stream, WebSocket | 1.50 ms | 1.50 ms | 1 | -0.25 ms | -0.25 ms |\n",
		"\n**1 of 2 calls failed** (each was made once more, after the streams had delivered the state it left; its events are not counted): pause: 409.\n",
		"| stream | pausing | paused | resuming | running |\n|---|---:|---:|---:|---:|\n| sandbox stream, SSE (Go SDK `Client.Watch`) | 1.00 ms | 2.00 ms | 3.00 ms | 4.00 ms |\n",
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|\n| sandbox stream, SSE (Go SDK `Client.Watch`) | 1001.0 ms | 1001.0 ms | 1001.0 ms | 1001.0 ms | 1000.0 ms |",
	)
	if strings.Contains(p.Results, "| team stream, WebSocket | 0.0 ms") {
		t.Error("the team's streams carry no metrics and should have no cadence row")
	}
	reporttest.Targets(t, p.Targets, reporttest.Target{Measured: "sandbox stream, SSE (Go SDK `Client.Watch`): 1001.0 ms", Verdict: "PASS"})
	reporttest.Contains(t, p.Method, "with 4 samples it is the slowest one.")
}
