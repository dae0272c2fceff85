package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/proxy"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/sshgate"
)

// What the daemon plugs the metrics into.
var (
	_ sandbox.Observer = (*Metrics)(nil)
	_ proxy.Observer   = ProxyObserver{}
	_ sshgate.Observer = SSHObserver{}
)

type fakeCounts struct {
	counts map[string]int
	err    error
}

func (f fakeCounts) CountByState(context.Context) (map[string]int, error) { return f.counts, f.err }

func TestSandboxesByState(t *testing.T) {
	m := New(Config{
		Sandboxes: fakeCounts{counts: map[string]int{"running": 2, "stopped": 5}},
		States:    []string{"creating", "running", "paused", "stopped"},
	}, nil)
	want := `
# HELP runtools_sandboxes Sandboxes by state; stopped counts every sandbox ever destroyed whose record is kept.
# TYPE runtools_sandboxes gauge
runtools_sandboxes{state="creating"} 0
runtools_sandboxes{state="paused"} 0
runtools_sandboxes{state="running"} 2
runtools_sandboxes{state="stopped"} 5
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "runtools_sandboxes"); err != nil {
		t.Error(err)
	}
}

func TestOperations(t *testing.T) {
	m := New(Config{Ops: []string{"create", "pause"}}, nil)
	m.Observe("create", 30*time.Millisecond, nil)
	m.Observe("create", 2*time.Second, nil)
	m.Observe("create", time.Second, fmt.Errorf("no agent: %w", errdefs.ErrUnavailable))
	m.Observe("exec", time.Millisecond, fmt.Errorf("gone: %w", context.Canceled))
	m.Observe("exec", time.Millisecond, context.DeadlineExceeded)
	m.Observe("exec", time.Millisecond, errors.New("boom"))

	if n := testutil.CollectAndCount(m.opDuration); n != 2 {
		t.Errorf("%d histograms, want create and pause (declared, at 0)", n)
	}
	want := `
# HELP runtools_operation_errors_total Sandbox operations that failed, by kind of error (the API's error codes, and canceled when the caller went away).
# TYPE runtools_operation_errors_total counter
runtools_operation_errors_total{kind="canceled",op="exec"} 1
runtools_operation_errors_total{kind="internal",op="exec"} 1
runtools_operation_errors_total{kind="unavailable",op="create"} 1
runtools_operation_errors_total{kind="unavailable",op="exec"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "runtools_operation_errors_total"); err != nil {
		t.Error(err)
	}
	body := scrape(t, m)
	for _, line := range []string{
		`runtools_operation_duration_seconds_bucket{op="create",le="0.025"} 0`,
		`runtools_operation_duration_seconds_bucket{op="create",le="0.05"} 1`,
		`runtools_operation_duration_seconds_bucket{op="create",le="2.5"} 2`,
		`runtools_operation_duration_seconds_count{op="create"} 2`,
		`runtools_operation_duration_seconds_count{op="pause"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("no line %q in:\n%s", line, body)
		}
	}
}

func TestTraffic(t *testing.T) {
	m := New(Config{}, nil)
	px, ssh := m.Proxy(), m.SSH()
	for _, s := range []int{200, 204, 101, 404, 499, 502} {
		px.Request(s)
	}
	px.ToSandbox(100)
	px.FromSandbox(2000)
	px.FromSandbox(48)
	ssh.Accepted()
	ssh.Accepted()
	ssh.Closed()
	ssh.Refused()
	ssh.ToSandbox(7)
	ssh.FromSandbox(9)

	want := `
# HELP runtools_proxy_bytes_total Bytes of bodies and websocket streams the dev-server proxy carried, to or from sandboxes.
# TYPE runtools_proxy_bytes_total counter
runtools_proxy_bytes_total{direction="from_sandbox"} 2048
runtools_proxy_bytes_total{direction="to_sandbox"} 100
# HELP runtools_proxy_requests_total Requests the dev-server proxy answered, by class of status (499: the client went away first).
# TYPE runtools_proxy_requests_total counter
runtools_proxy_requests_total{code_class="1xx"} 1
runtools_proxy_requests_total{code_class="2xx"} 2
runtools_proxy_requests_total{code_class="3xx"} 0
runtools_proxy_requests_total{code_class="4xx"} 2
runtools_proxy_requests_total{code_class="5xx"} 1
# HELP runtools_ssh_bytes_total Bytes the SSH gateway carried on its channels (sessions, SFTP, forwards), to or from sandboxes.
# TYPE runtools_ssh_bytes_total counter
runtools_ssh_bytes_total{direction="from_sandbox"} 9
runtools_ssh_bytes_total{direction="to_sandbox"} 7
# HELP runtools_ssh_connections_total SSH connections: accepted once logged in with the sandbox open; refused otherwise (failed handshake or login, too many at once, or a sandbox that could not be opened).
# TYPE runtools_ssh_connections_total counter
runtools_ssh_connections_total{result="accepted"} 2
runtools_ssh_connections_total{result="refused"} 1
# HELP runtools_ssh_sessions_open SSH connections logged in to a sandbox and still open.
# TYPE runtools_ssh_sessions_open gauge
runtools_ssh_sessions_open 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"runtools_proxy_bytes_total", "runtools_proxy_requests_total", "runtools_ssh_bytes_total",
		"runtools_ssh_connections_total", "runtools_ssh_sessions_open"); err != nil {
		t.Error(err)
	}
}

// A failing count leaves runtools_sandboxes out of the scrape, not the rest.
func TestScrapeSurvivesAFailingCount(t *testing.T) {
	m := New(Config{Sandboxes: fakeCounts{err: errors.New("database is locked")}}, nil)
	body := scrape(t, m)
	if strings.Contains(body, "runtools_sandboxes{") {
		t.Errorf("sandboxes reported from a failed count:\n%s", body)
	}
	for _, name := range []string{"runtools_ssh_sessions_open", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, "\n"+name+" ") {
			t.Errorf("no %s in:\n%s", name, body)
		}
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}
