package server

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// createPhases splits a create-to-first-exec trial (t0 call, t1 Create
// returned, t2 Exec returned) into phases, from wall-clock points all on
// this host: the server sets created_at before recording the sandbox and
// started_at once its agent answered; it puts the OCI bundle in place just
// before `runsc run`; the agent logs "agent serving" on its console, and its
// uptime tells when its process started. Phases that cannot be told are
// merged with the next.
func (s *Server) createPhases(ctx context.Context, sb *client.Sandbox, t0, t1, t2 time.Time) []stats.Phase {
	bundle, err := os.Stat(s.BundleSpecPath(sb.ID))
	if err != nil || sb.StartedAt == nil {
		return nil
	}
	w0, w1 := t0.Round(0), t1.Round(0)
	ph := []stats.Phase{
		{Name: "API call to record", D: sb.CreatedAt.Sub(w0)},
		{Name: "record + network setup", D: Changed(bundle).Sub(sb.CreatedAt)},
	}
	start, startOK := s.agentStart(ctx, sb.ID)
	serving, servingOK := consoleServing(filepath.Join(s.SandboxDir(sb.ID), "console.log"))
	if startOK && servingOK {
		ph = append(ph,
			stats.Phase{Name: "runsc run until the agent starts", D: start.Sub(Changed(bundle))},
			stats.Phase{Name: "agent start until serving", D: serving.Sub(start)},
			stats.Phase{Name: "agent serving until seen ready", D: sb.StartedAt.Sub(serving)})
	} else {
		ph = append(ph, stats.Phase{Name: "runsc run + agent ready", D: sb.StartedAt.Sub(Changed(bundle))})
	}
	return append(ph,
		stats.Phase{Name: "record running + reply", D: w1.Sub(*sb.StartedAt)},
		stats.Phase{Name: "first exec", D: t2.Sub(t1)})
}

// agentStart estimates when the sandbox's agent process started, from the
// uptime its health route reports (whole milliseconds).
func (s *Server) agentStart(ctx context.Context, id string) (time.Time, bool) {
	a, err := s.Agent(ctx, id)
	if err != nil {
		return time.Time{}, false
	}
	defer a.Close()
	t := time.Now()
	h, err := a.Health(ctx)
	if err != nil {
		return time.Time{}, false
	}
	rtt := time.Since(t)
	return t.Round(0).Add(rtt/2 - time.Duration(h.UptimeMS)*time.Millisecond - time.Millisecond/2), true
}

// consoleServing returns the time of the agent's "agent serving" log line
// (millisecond resolution; gVisor's clock follows the host's).
func consoleServing(path string) (time.Time, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	m := regexp.MustCompile(`time=(\S+) level=\S+ msg="agent serving"`).FindSubmatch(data)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(m[1]))
	return t.Add(time.Millisecond / 2), err == nil // the middle of its millisecond
}

// Changed is a file's change time: when it was last written or renamed.
// The daemon writes a bundle's config.json to a temporary file, fsyncs it
// and renames it into place just before it runs runsc, so the change time,
// not the modification time, is that moment.
func Changed(fi os.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Unix())
	}
	return fi.ModTime()
}
