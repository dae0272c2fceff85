package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/runtools/runtools/client"
)

// collector gathers a watch's events.
type collector struct {
	mu  sync.Mutex
	evs []client.WatchEvent
}

func (c *collector) add(ev client.WatchEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, ev)
	return nil
}

// waitFor waits until an event satisfies ok.
func (c *collector) waitFor(t *testing.T, what string, ok func(client.WatchEvent) bool) client.WatchEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, ev := range c.evs {
			if ok(ev) {
				c.mu.Unlock()
				return ev
			}
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s among %d events", what, len(c.evs))
	return client.WatchEvent{}
}

func (c *collector) states() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, ev := range c.evs {
		if ev.Status != nil {
			out = append(out, ev.Status.State)
		}
	}
	return out
}

func isState(state string) func(client.WatchEvent) bool {
	return func(ev client.WatchEvent) bool { return ev.Status != nil && ev.Status.State == state }
}

func TestWatch(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 3*time.Minute)
	sb := create(t, s, client.CreateRequest{})

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var mine, team collector
	go s.client().Watch(wctx, sb.ID, client.WatchOptions{}, mine.add)
	go s.client().WatchTeam(wctx, client.WatchOptions{}, team.add)

	// The current state first, then metrics every second.
	first := mine.waitFor(t, "current status", isState("running"))
	if !first.Status.SSHReady || first.Status.VNCReady {
		t.Errorf("status of a running base sandbox: %+v", first.Status)
	}
	if _, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sh", "-c", "timeout 4 sh -c 'while :; do :; done'"}}); err != nil {
		t.Fatal(err)
	}
	busy := mine.waitFor(t, "metrics with CPU use", func(ev client.WatchEvent) bool {
		return ev.Metrics != nil && ev.Metrics.CPUPercent > 20
	})
	m := busy.Metrics
	if m.MemBytes <= 0 || m.MemLimitBytes != 1024<<20 || m.MemPercent <= 0 || m.DiskLimitBytes <= 0 {
		t.Errorf("metrics: %+v", m)
	}
	t.Logf("metrics while busy: %+v", *m)
	sh(t, sb, "head -c 20000000 /dev/urandom > /root/filler && sync")
	mine.waitFor(t, "metrics with the disk in use", func(ev client.WatchEvent) bool {
		return ev.Metrics != nil && ev.Metrics.DiskUsedBytes >= 20000000
	})

	// Pause and resume: every transition, in order.
	if err := sb.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sb.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	mine.waitFor(t, "running again", func(ev client.WatchEvent) bool {
		return ev.Status != nil && ev.Status.State == "running" && ev.Seq > first.Seq
	})
	want := []string{"running", "pausing", "paused", "resuming", "running"}
	if got := mine.states(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("states seen %v, want %v", got, want)
	}

	// Resuming from a seq replays exactly what came after it.
	var again collector
	rctx, rstop := context.WithCancel(ctx)
	go s.client().Watch(rctx, sb.ID, client.WatchOptions{After: first.Seq, NoMetrics: true}, again.add)
	again.waitFor(t, "replayed running", isState("running"))
	rstop()
	if got := again.states(); strings.Join(got, " ") != strings.Join(want[1:], " ") {
		t.Errorf("replayed after seq %d: %v, want %v", first.Seq, got, want[1:])
	}

	// The team stream sees other sandboxes come and go.
	other := create(t, s, client.CreateRequest{})
	team.waitFor(t, "the other sandbox running", func(ev client.WatchEvent) bool {
		return ev.Status != nil && ev.Status.SandboxID == other.ID && ev.Status.State == "running"
	})

	t.Run("sse", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.addr+"/v1/sandboxes/"+sb.ID+"/watch?metrics=false", nil)
		req.Header.Set("Authorization", "Bearer "+s.key)
		req.Header.Set("Last-Event-ID", itoa(int(first.Seq)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
		}
		br := bufio.NewReader(resp.Body)
		var lines []string
		for len(lines) < 3 {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if !strings.HasPrefix(lines[0], "id: ") || lines[1] != "event: status" || !strings.Contains(lines[2], `"state":"pausing"`) {
			t.Errorf("SSE after Last-Event-ID: %q", lines)
		}
	})

	t.Run("websocket", func(t *testing.T) {
		c, _, err := websocket.Dial(ctx, "ws://"+s.addr+"/v1/sandboxes/"+sb.ID+"/watch", &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + s.key}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ev client.WatchEvent
		if err := json.Unmarshal(data, &ev); err != nil || ev.Status == nil || ev.Status.State != "running" {
			t.Errorf("first websocket message %s: %v", data, err)
		}
		// Without a key: refused.
		if _, _, err := websocket.Dial(ctx, "ws://"+s.addr+"/v1/sandboxes/"+sb.ID+"/watch", nil); err == nil {
			t.Error("websocket watch without a key accepted")
		}
	})

	t.Run("cli", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, binary, "sandbox", "watch", sb.ID, "-o", "json")
		cmd.Env = append(cmd.Environ(), "RUNTOOLS_URL=http://"+s.addr, "RUNTOOLS_API_KEY="+s.key)
		out, _ := cmd.Output()
		var status, metrics int
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var ev client.WatchEvent
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("not one JSON event per line: %q", l)
			}
			if ev.Status != nil {
				status++
			}
			if ev.Metrics != nil {
				metrics++
			}
		}
		if status < 1 || metrics < 1 {
			t.Errorf("watch -o json for 3 s: %d status, %d metrics events:\n%s", status, metrics, out)
		}
	})
}

// TestWatchTeamMetrics: with Metrics, the team's stream carries the metrics
// of each running sandbox every second, on the one connection, and stops
// those of a sandbox once it is paused.
func TestWatchTeamMetrics(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 3*time.Minute)
	a := create(t, s, client.CreateRequest{MemoryMB: 512})
	b := create(t, s, client.CreateRequest{MemoryMB: 512})

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var team collector
	go s.client().WatchTeam(wctx, client.WatchOptions{Metrics: true}, team.add)
	for _, sb := range []*client.Sandbox{a, b} {
		ev := team.waitFor(t, "metrics of "+sb.ID, func(ev client.WatchEvent) bool {
			return ev.Metrics != nil && ev.Metrics.SandboxID == sb.ID
		})
		if m := ev.Metrics; m.MemBytes <= 0 || m.MemLimitBytes != 512<<20 || m.MemPercent <= 0 {
			t.Errorf("metrics of %s: %+v", sb.ID, *m)
		}
	}

	if err := b.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	team.waitFor(t, "b paused", func(ev client.WatchEvent) bool {
		return ev.Status != nil && ev.Status.SandboxID == b.ID && ev.Status.State == "paused"
	})
	time.Sleep(1500 * time.Millisecond) // a tick that may have sampled b before
	team.mu.Lock()
	mark := len(team.evs)
	team.mu.Unlock()
	time.Sleep(3 * time.Second)
	team.mu.Lock()
	defer team.mu.Unlock()
	count := map[string]int{}
	for _, ev := range team.evs[mark:] {
		if ev.Metrics != nil {
			count[ev.Metrics.SandboxID]++
		}
	}
	if count[a.ID] < 2 || count[b.ID] != 0 {
		t.Errorf("metrics in 3 s after b paused: %v; want a's each second and none of b's", count)
	}
}
