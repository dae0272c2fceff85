package integration

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

func TestLimitsVisible(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{VCPUs: 1, MemoryMB: 512})
	res := sh(t, sb, "grep MemTotal /proc/meminfo")
	if out := string(res.Stdout); !strings.Contains(out, "524288 kB") {
		t.Errorf("512 MB: sandbox sees %q", out)
	}
	// The host enforces the limits on the whole sandbox through its cgroups.
	for file, want := range map[string]string{
		"cpu/runtools/" + sb.ID + "/cpu.cfs_quota_us":         "100000",
		"memory/runtools/" + sb.ID + "/memory.limit_in_bytes": "536870912",
	} {
		got, err := os.ReadFile("/sys/fs/cgroup/" + file)
		if err != nil || strings.TrimSpace(string(got)) != want {
			t.Errorf("%s = %q (%v), want %s", file, got, err, want)
		}
	}
	// And the process limit inside.
	if res := sh(t, sb, "grep 'Max processes' /proc/self/limits"); !strings.Contains(string(res.Stdout), "1024") {
		t.Errorf("process limit inside: %q", res.Stdout)
	}
}

// TestMemoryHog: a process that allocates twice the sandbox's memory is
// contained: it dies, or its sandbox stops with reason oom; the host, the
// daemon and other sandboxes keep working.
func TestMemoryHog(t *testing.T) {
	s := startServer(t)
	hog := create(t, s, client.CreateRequest{MemoryMB: 256})
	bystander := create(t, s, client.CreateRequest{})
	ctx := ctxT(t, 2*time.Minute)
	res, err := hog.Exec(ctx, client.ExecRequest{Cmd: []string{"python3", "-c", "b = [bytearray(16 << 20) for _ in range(32)]; print('survived')"}})
	if err == nil && strings.Contains(string(res.Stdout), "survived") {
		t.Fatalf("allocating 512 MB in a 256 MB sandbox succeeded")
	}
	if err == nil && res.ExitCode != 137 {
		t.Errorf("hog exit code %d, want 137 (killed); stderr %q", res.ExitCode, res.Stderr)
	}
	got, gerr := s.client().Get(ctx, hog.ID)
	if gerr != nil {
		t.Fatal(gerr)
	}
	switch got.State {
	case "running":
		if r := sh(t, hog, "echo alive"); string(r.Stdout) != "alive\n" {
			t.Errorf("hog sandbox running but not answering")
		}
	case "stopped":
		if !strings.HasPrefix(got.StopReason, "oom") {
			t.Errorf("hog sandbox stopped with reason %q, want oom", got.StopReason)
		}
	default:
		t.Errorf("hog sandbox state %q", got.State)
	}
	t.Logf("memory hog: exec err=%v; sandbox %s %s", err, got.State, got.StopReason)
	if r := sh(t, bystander, "echo fine"); string(r.Stdout) != "fine\n" {
		t.Errorf("bystander hurt: %+v", r)
	}
}

// TestForkBomb: a fork bomb is contained by the per-sandbox process limit.
func TestForkBomb(t *testing.T) {
	s := startServer(t)
	bomb := create(t, s, client.CreateRequest{})
	bystander := create(t, s, client.CreateRequest{})
	ctx := ctxT(t, 3*time.Minute)
	start := time.Now()
	res, err := bomb.Exec(ctx, client.ExecRequest{
		Cmd:       []string{"bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 20"},
		TimeoutMS: 8000,
	})
	t.Logf("fork bomb ended after %v: err=%v", time.Since(start), err)
	if err == nil && !res.TimedOut {
		t.Logf("bomb exit %d", res.ExitCode)
	}
	if r := sh(t, bystander, "echo fine"); string(r.Stdout) != "fine\n" {
		t.Errorf("bystander hurt: %+v", r)
	}
	if _, err := s.client().Me(ctx); err != nil {
		t.Errorf("daemon hurt: %v", err)
	}
	got, err := s.client().Get(ctx, bomb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State == "running" {
		// The bomb's own sandbox recovers once its processes are gone.
		deadline := time.Now().Add(60 * time.Second)
		for {
			r, err := bomb.Exec(ctx, client.ExecRequest{Cmd: []string{"sh", "-c", "pkill -9 bash; echo alive"}, TimeoutMS: 10000})
			if err == nil && strings.Contains(string(r.Stdout), "alive") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bombed sandbox never answered again: %v %+v", err, r)
			}
			time.Sleep(time.Second)
		}
	} else if got.StopReason == "" {
		t.Errorf("bombed sandbox is %s without a reason", got.State)
	}
	t.Logf("after the bomb: %s %s", got.State, got.StopReason)
}
