package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/sandbox"
)

// TestWatchTeamMetrics: the team's stream carries, on request, the metrics
// of each of the team's running sandboxes every second, and of no other
// team's; without the request, none.
func TestWatchTeamMetrics(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	second, _ := f.sandboxes.Create(ctx, "team-a", sandbox.CreateOptions{Name: "second"})
	paused, _ := f.sandboxes.Create(ctx, "team-a", sandbox.CreateOptions{Name: "paused"})
	paused.State = sandbox.Paused
	foreign, _ := f.sandboxes.Create(ctx, "team-b", sandbox.CreateOptions{Name: "theirs"})

	if resp := f.do(t, "GET", "/v1/watch?metrics=maybe", f.keyA, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("metrics=maybe: %d, want 400", resp.StatusCode)
	}

	seen := metricsOf(t, f, "/v1/watch?metrics=true", 3500*time.Millisecond)
	if seen[f.sandboxA] < 1 || seen[second.ID] < 1 {
		t.Errorf("metrics of the running sandboxes: %v, want each of %s and %s", seen, f.sandboxA, second.ID)
	}
	if seen[paused.ID] > 0 || seen[foreign.ID] > 0 {
		t.Errorf("metrics of a paused sandbox or another team's: %v", seen)
	}
	if seen := metricsOf(t, f, "/v1/watch", 2500*time.Millisecond); len(seen) > 0 {
		t.Errorf("metrics without ?metrics=true: %v", seen)
	}
}

// metricsOf reads a watch of team a for d and counts its metrics events
// by sandbox.
func metricsOf(t *testing.T, f *fixture, path string, d time.Duration) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.keyA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	seen := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() { // until the deadline cuts the stream
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev client.WatchEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		if ev.Type == client.EventMetrics && ev.Metrics != nil {
			seen[ev.Metrics.SandboxID]++
			if ev.Metrics.MemPercent != 25 {
				t.Errorf("memory of %s: %v %%, want 25", ev.Metrics.SandboxID, ev.Metrics.MemPercent)
			}
		}
	}
	return seen
}

// TestWatchStatusCarriesLabels: a sandbox's status events carry its labels
// and when its timeout runs out.
func TestWatchStatusCarriesLabels(t *testing.T) {
	f := newFixture(t)
	sb := f.sandboxes.byID[f.sandboxA]
	sb.Labels, sb.TimeoutAt = map[string]string{"app": "web"}, time.Now().Add(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/v1/sandboxes/"+sb.ID+"/watch?metrics=false", nil)
	req.Header.Set("Authorization", "Bearer "+f.keyA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev client.WatchEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil || ev.Status == nil {
			t.Fatalf("first event %s: %v", data, err)
		}
		if ev.Status.Labels["app"] != "web" || ev.Status.TimeoutAt == nil {
			t.Errorf("status: labels %v, timeout_at %v", ev.Status.Labels, ev.Status.TimeoutAt)
		}
		return
	}
	t.Fatalf("no event: %v", sc.Err())
}
