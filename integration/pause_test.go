package integration

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// statefulSandbox creates a sandbox that is never paused for idleness,
// with state in memory (the counter server) and on disk (what the shell
// script writes).
func statefulSandbox(t *testing.T, s *server, req client.CreateRequest, script string) *client.Sandbox {
	t.Helper()
	req.IdleTimeout = intPtr(0)
	sb := create(t, s, req)
	counterServer(t, s, sb)
	sh(t, sb, script)
	return sb
}

// counterServer starts a Node.js server in sb that answers with a counter
// it increments in memory every 10 ms.
func counterServer(t *testing.T, s *server, sb *client.Sandbox) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	js := `let n=0; setInterval(()=>n++,10); require("http").createServer((q,r)=>r.end(String(n))).listen(3000)`
	if _, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"node", "-e", js}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := counter(sb.IP); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter server never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var quickClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 300 * time.Millisecond}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

// counter reads the counter server's value from the host.
func counter(ip string) (int, error) {
	resp, err := noKeepAlive.Get("http://" + ip + ":3000/")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// TestPauseResumeCycles: 50 pause/resume cycles keep the memory (a
// counter), the disk (a file) and a listening server intact; half of the
// resumes are explicit, half are wake-ups by an exec.
func TestPauseResumeCycles(t *testing.T) {
	s := startServer(t)
	sb := statefulSandbox(t, s, client.CreateRequest{}, "echo persisted > /root/file")
	c := s.client()
	ctx := ctxT(t, 10*time.Minute)
	last := 0
	var pauses, resumes []time.Duration
	for i := 0; i < 50; i++ {
		start := time.Now()
		got, err := c.Pause(ctx, sb.ID)
		if err != nil || got.State != "paused" {
			t.Fatalf("cycle %d: pause: %+v %v", i, got, err)
		}
		pauses = append(pauses, time.Since(start))
		if i < 3 {
			if _, err := quickClient.Get("http://" + sb.IP + ":3000/"); err == nil {
				t.Fatalf("cycle %d: a paused sandbox answered", i)
			}
		}
		start = time.Now()
		if i%2 == 0 {
			if got, err = c.Resume(ctx, sb.ID); err != nil || got.State != "running" {
				t.Fatalf("cycle %d: resume: %+v %v", i, got, err)
			}
			resumes = append(resumes, time.Since(start))
		}
		res := sh(t, sb, "cat /root/file") // wakes the sandbox on odd cycles
		if string(res.Stdout) != "persisted\n" {
			t.Fatalf("cycle %d: file: %q %q", i, res.Stdout, res.Stderr)
		}
		n, err := counter(sb.IP)
		if err != nil {
			t.Fatalf("cycle %d: server after resume: %v", i, err)
		}
		if n < last {
			t.Fatalf("cycle %d: counter went back from %d to %d", i, last, n)
		}
		last = n
	}
	t.Logf("pause p50 %v, resume p50 %v, counter at %d", median(pauses), median(resumes), last)
	events, err := c.Events(ctx, sb.ID)
	if err != nil || len(events) < 200 {
		t.Errorf("events: %d %v", len(events), err)
	}
}

func intPtr(n int) *int { return &n }

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// TestPausedSurvivesReboot: a paused sandbox and its snapshots survive the
// daemon stopping and everything a reboot clears (processes, namespaces,
// the bridge, firewall tables, /run).
func TestPausedSurvivesReboot(t *testing.T) {
	s := startServer(t)
	sb := statefulSandbox(t, s, client.CreateRequest{}, "echo before-reboot > /root/file")
	c := s.client()
	ctx := ctxT(t, 3*time.Minute)
	if _, err := c.TakeSnapshot(ctx, sb.ID, "snap"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	s.stop()
	for _, ns := range netnsList(s) {
		exec.Command("ip", "netns", "del", ns).Run()
	}
	exec.Command("nft", "delete", "table", "inet", "runtools_"+s.bridge).Run()
	exec.Command("nft", "delete", "table", "ip", "runtools_"+s.bridge+"_nat").Run()
	exec.Command("ip", "link", "del", s.bridge).Run()
	os.RemoveAll("/run/runtools")
	s.start()
	if got, err := c.Get(ctx, sb.ID); err != nil || got.State != "paused" {
		t.Fatalf("after reboot: %+v %v", got, err)
	}
	if res := sh(t, sb, "cat /root/file"); string(res.Stdout) != "before-reboot\n" {
		t.Errorf("after reboot: %q", res.Stdout)
	}
	if _, err := counter(sb.IP); err != nil {
		t.Errorf("server after reboot: %v", err)
	}
	if _, err := c.Rollback(ctx, sb.ID, "snap"); err != nil {
		t.Errorf("rollback after reboot: %v", err)
	}
}
