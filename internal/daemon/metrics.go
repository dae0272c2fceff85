package daemon

import (
	"log/slog"

	"github.com/runtools/runtools/internal/metrics"
	"github.com/runtools/runtools/internal/proxy"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/sshgate"
	"github.com/runtools/runtools/internal/store"
)

// newMetrics makes the server's metrics, counting sandboxes in st. The API
// serves them to admin keys at GET /metrics.
func newMetrics(st *store.Store, quotas metrics.QuotaSource, log *slog.Logger) *metrics.Metrics {
	var states []string
	for _, s := range []sandbox.State{sandbox.Creating, sandbox.Running, sandbox.Pausing, sandbox.Paused,
		sandbox.Resuming, sandbox.Stopping, sandbox.Stopped, sandbox.Destroyed, sandbox.Error} {
		states = append(states, string(s))
	}
	return metrics.New(metrics.Config{
		Sandboxes: st,
		Quotas:    quotas,
		States:    states,
		Ops: []string{sandbox.OpCreate, sandbox.OpExec, sandbox.OpStart, sandbox.OpPause, sandbox.OpResume,
			sandbox.OpSnapshot, sandbox.OpRollback, sandbox.OpFork, sandbox.OpDestroy},
	}, log)
}

var (
	_ metrics.StateCounter = (*store.Store)(nil)
	_ sandbox.Observer     = (*metrics.Metrics)(nil)
	_ proxy.Observer       = metrics.ProxyObserver{}
	_ sshgate.Observer     = metrics.SSHObserver{}
)
