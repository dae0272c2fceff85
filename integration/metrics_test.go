package integration

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestMetrics scrapes GET /metrics with the admin key after a create, an
// exec, a pause and a resume.
func TestMetrics(t *testing.T) {
	s := startServer(t)
	c := s.client()
	ctx := ctxT(t, 3*time.Minute)
	sb, err := c.Create(ctx, client.CreateRequest{Template: "base"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Exec(ctx, sb.ID, client.ExecRequest{Cmd: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("exec: %+v, %v", res, err)
	}
	if _, err := c.Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resume(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}

	code, body := s.scrape(t, s.key)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	m := parseMetrics(body)
	for _, want := range []struct {
		series string
		min    float64
	}{
		{`runtools_operation_duration_seconds_count{op="create"}`, 1},
		{`runtools_operation_duration_seconds_count{op="exec"}`, 1},
		{`runtools_operation_duration_seconds_count{op="pause"}`, 1},
		{`runtools_operation_duration_seconds_count{op="resume"}`, 1},
		{`runtools_sandboxes{state="running"}`, 1},
		{`runtools_ssh_sessions_open`, 0},
		{`go_goroutines`, 1},
	} {
		if v, ok := m[want.series]; !ok || v < want.min {
			t.Errorf("%s = %v (present %v), want at least %v", want.series, v, ok, want.min)
		}
	}
	if code, _ := s.scrape(t, ""); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a key: %d, want 401", code)
	}
}

// scrape gets /metrics with key ("" for none).
func (s *server) scrape(t *testing.T, key string) (int, string) {
	t.Helper()
	hdr := map[string]string{}
	if key != "" {
		hdr["Authorization"] = "Bearer " + key
	}
	resp, body := get(t, &http.Client{Timeout: 30 * time.Second}, "http://"+s.addr+"/metrics", hdr)
	return resp.StatusCode, body
}

// parseMetrics reads the Prometheus text format into series -> value.
func parseMetrics(body string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
