package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/runtools/runtools/client"
)

// createPhases splits a create-to-first-exec trial (t0 call, t1 Create
// returned, t2 Exec returned) into phases, from wall-clock points all on
// this host: the server sets created_at before recording the sandbox and
// started_at once its agent answered; it puts the OCI bundle in place just
// before `runsc run`; the agent logs "agent serving" on its console, and its
// uptime tells when its process started. Phases that cannot be told are
// merged with the next.
func (s *server) createPhases(ctx context.Context, sb *client.Sandbox, t0, t1, t2 time.Time) []phase {
	bundle, err := os.Stat(s.bundleSpecPath(sb.ID))
	if err != nil || sb.StartedAt == nil {
		return nil
	}
	w0, w1 := t0.Round(0), t1.Round(0)
	ph := []phase{
		{"API call to record", sb.CreatedAt.Sub(w0)},
		{"record + network setup", changed(bundle).Sub(sb.CreatedAt)},
	}
	start, startOK := s.agentStart(ctx, sb.ID)
	serving, servingOK := consoleServing(filepath.Join(s.dataDir, "sandboxes", sb.ID, "console.log"))
	if startOK && servingOK {
		ph = append(ph,
			phase{"runsc run until the agent starts", start.Sub(changed(bundle))},
			phase{"agent start until serving", serving.Sub(start)},
			phase{"agent serving until seen ready", sb.StartedAt.Sub(serving)})
	} else {
		ph = append(ph, phase{"runsc run + agent ready", sb.StartedAt.Sub(changed(bundle))})
	}
	return append(ph,
		phase{"record running + reply", w1.Sub(*sb.StartedAt)},
		phase{"first exec", t2.Sub(t1)})
}

// agentStart estimates when the sandbox's agent process started, from the
// uptime its health route reports (whole milliseconds).
func (s *server) agentStart(ctx context.Context, id string) (time.Time, bool) {
	a, err := s.agent(ctx, id)
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
