package integration

import (
	"os"
	"strconv"
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
	if got.State == "running" {
		waitLimit(t, s, hog.ID, "limit: memory")
	}
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

// waitLimit waits until the sandbox's state and its recorded events say it
// hit the limit (a reason starting with prefix).
func waitLimit(t *testing.T, s *server, id, prefix string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		sb, err := s.client().Get(ctxT(t, time.Minute), id)
		events, _ := s.client().Events(ctxT(t, time.Minute), id)
		var inEvents bool
		for _, ev := range events {
			inEvents = inEvents || strings.HasPrefix(ev.Why, prefix)
		}
		if err == nil && strings.HasPrefix(sb.LimitHit, prefix) && inEvents {
			t.Logf("limit reported: %s", sb.LimitHit)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q reported: limit_hit %q, events %+v (%v)", prefix, sb.LimitHit, events, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCPUQuota: four busy processes in a 1-vCPU sandbox get no more than
// 1.1 vCPUs of the host, measured on the sandbox's cgroup.
func TestCPUQuota(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{VCPUs: 1})
	usage := func() time.Duration {
		data, err := os.ReadFile("/sys/fs/cgroup/cpuacct/runtools/" + sb.ID + "/cpuacct.usage")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return time.Duration(n)
	}
	if _, err := s.client().Start(ctxT(t, time.Minute), sb.ID, client.ExecRequest{
		Cmd: []string{"sh", "-c", "for i in 1 2 3 4; do timeout 8 sh -c 'while :; do :; done' & done; wait"},
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // let the burn get going
	u0, t0 := usage(), time.Now()
	time.Sleep(4 * time.Second)
	u1, t1 := usage(), time.Now()
	share := float64(u1-u0) / float64(t1.Sub(t0))
	t.Logf("four busy loops in a 1-vCPU sandbox used %.2f CPUs", share)
	if share > 1.1 {
		t.Errorf("a 1-vCPU sandbox used %.2f CPUs, want at most 1.1", share)
	}
	if share < 0.5 {
		t.Errorf("the burn used only %.2f CPUs: the test measured nothing", share)
	}
}
