package integration

import (
	"context"
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

// TestForkBomb: a fork bomb is contained by the per-sandbox process limit,
// and the sandbox's state and events say so while the bomb goes on.
func TestForkBomb(t *testing.T) {
	s := startServer(t)
	bomb := create(t, s, client.CreateRequest{})
	bystander := create(t, s, client.CreateRequest{})
	ctx := ctxT(t, 3*time.Minute)
	start := time.Now()
	ended := make(chan error, 1)
	go func() {
		_, err := bomb.Exec(ctx, client.ExecRequest{
			Cmd:       []string{"bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 90"},
			TimeoutMS: 90000,
		})
		ended <- err
	}()
	ev := waitLimit(t, s, bomb.ID, "limit: pids")
	t.Logf("pids limit reported %v after the bomb started", ev.At.Sub(start).Round(100*time.Millisecond))
	if r := sh(t, bystander, "echo fine"); string(r.Stdout) != "fine\n" {
		t.Errorf("bystander hurt: %+v", r)
	}
	if _, err := s.client().Me(ctx); err != nil {
		t.Errorf("daemon hurt: %v", err)
	}
	// The bomb's own sandbox recovers once its processes are gone: kill -1
	// reaches them all at once (all but the agent, PID 1), and needs no
	// shell, for which the bomb leaves no process to spare.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := bomb.Exec(ctx, client.ExecRequest{Cmd: []string{"kill", "-9", "-1"}, TimeoutMS: 10000})
		r, perr := bomb.Exec(ctx, client.ExecRequest{Cmd: []string{"pgrep", "^(bash|sleep)$"}, TimeoutMS: 10000})
		if err == nil && perr == nil && r.ExitCode == 1 { // nothing left
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bomb's processes outlived a minute of kills: %v %+v", err, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := sh(t, bomb, "echo alive"); string(r.Stdout) != "alive\n" {
		t.Errorf("bombed sandbox not answering: %+v", r)
	}
	select {
	case err := <-ended:
		t.Logf("the bomb's exec ended after %v: err=%v", time.Since(start).Round(100*time.Millisecond), err)
	case <-time.After(30 * time.Second):
		t.Errorf("the bomb's exec still runs after its processes were killed")
	}
	if got, err := s.client().Get(ctx, bomb.ID); err != nil || got.State != "running" {
		t.Errorf("after the bomb: %+v %v, want running", got, err)
	}
}

// waitLimit waits until the sandbox's state and its recorded events say it
// hit the limit (a reason starting with prefix).
// It returns the first such event.
func waitLimit(t *testing.T, s *server, id, prefix string) client.SandboxEvent {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		sb, err := s.client().Get(ctxT(t, time.Minute), id)
		events, _ := s.client().Events(ctxT(t, time.Minute), id)
		var first *client.SandboxEvent
		for i, ev := range events {
			if first == nil && strings.HasPrefix(ev.Why, prefix) {
				first = &events[i]
			}
		}
		if err == nil && strings.HasPrefix(sb.LimitHit, prefix) && first != nil {
			t.Logf("limit reported: %s", sb.LimitHit)
			return *first
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q reported: limit_hit %q, events %+v (%v)", prefix, sb.LimitHit, events, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCPUQuota: four busy processes in a 1-vCPU sandbox get no more than
// 1.1 vCPUs of the host, measured on the sandbox's cgroup. The throttling
// is reported once for the whole burn, in the events, the sandbox's
// limit_hit and the live stream.
func TestCPUQuota(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{VCPUs: 1})
	wctx, stop := context.WithCancel(ctxT(t, 2*time.Minute))
	defer stop()
	var stream collector
	go s.client().Watch(wctx, sb.ID, client.WatchOptions{NoMetrics: true}, stream.add)
	stream.waitFor(t, "current status", isState("running"))
	start := time.Now()
	usage := func() time.Duration {
		data, err := os.ReadFile("/sys/fs/cgroup/cpuacct/runtools/" + sb.ID + "/cpuacct.usage")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return time.Duration(n)
	}
	if _, err := s.client().Start(ctxT(t, time.Minute), sb.ID, client.ExecRequest{
		Cmd: []string{"sh", "-c", "for i in 1 2 3 4; do timeout 12 sh -c 'while :; do :; done' & done; wait"},
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
	ev := waitLimit(t, s, sb.ID, "limit: cpu")
	t.Logf("CPU throttling reported %v after the burn started: %s", ev.At.Sub(start).Round(100*time.Millisecond), ev.Why)
	st := stream.waitFor(t, "the limit on the live stream", func(ev client.WatchEvent) bool {
		return ev.Status != nil && strings.HasPrefix(ev.Status.Reason, "limit: cpu")
	})
	if st.Status.State != "running" {
		t.Errorf("limit status on the stream: %+v", st.Status)
	}
	// The burn lasts 12 s: one event for all of it.
	time.Sleep(time.Until(start.Add(15 * time.Second)))
	events, err := s.client().Events(ctxT(t, time.Minute), sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, ev := range events {
		if strings.HasPrefix(ev.Why, "limit: cpu") {
			n++
		}
	}
	// One, unless the host itself was so busy that the sandbox, getting
	// less than its quota, went unthrottled for a moment (the limit then
	// clears, and is hit again): seen with other tests running alongside.
	if n < 1 || n > 2 {
		t.Errorf("%d CPU limit events for one sustained burn, want 1: %+v", n, events)
	} else if n == 2 {
		t.Logf("2 CPU limit events for one burn: the host was busy enough to clear it once: %+v", events)
	}
}

// TestOpenFiles: a process that opens files until it fails stops with
// EMFILE at its RLIMIT_NOFILE, cannot raise the limit, and the sandbox
// stays usable.
func TestOpenFiles(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	const script = `
import errno, os, resource
lim = next(int(l.split()[3]) for l in open('/proc/self/limits') if l.startswith('Max open files'))
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (2 * lim, 2 * lim))
    raised = 'raised'
except (ValueError, OSError):
    raised = 'refused'
before = len(os.listdir('/proc/self/fd')) - 1
open('/tmp/f', 'w').close()
fds, err = [], 'none'
try:
    while len(fds) < 4 * lim:
        fds.append(os.open('/tmp/f', os.O_RDONLY))
except OSError as e:
    err = errno.errorcode.get(e.errno, str(e.errno))
print(lim, before + len(fds), err, raised)
`
	start := time.Now()
	res, err := sb.Exec(ctxT(t, 3*time.Minute), client.ExecRequest{Cmd: []string{"python3", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(res.Stdout))
	if res.ExitCode != 0 || len(f) != 4 {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	limit, _ := strconv.Atoi(f[0])
	opened, _ := strconv.Atoi(f[1])
	t.Logf("a process opened %d files (limit %d) in %v, then got %s; raising the limit: %s",
		opened, limit, time.Since(start).Round(100*time.Millisecond), f[2], f[3])
	if limit != 65536 {
		t.Errorf("RLIMIT_NOFILE inside is %d, want 65536", limit)
	}
	if f[2] != "EMFILE" {
		t.Errorf("opening files ended with %s, want EMFILE", f[2])
	}
	if opened > limit || opened < limit-16 {
		t.Errorf("%d files open when opening failed, want close to the limit %d", opened, limit)
	}
	if f[3] != "refused" {
		t.Errorf("a sandbox process raised its open-files limit above %d", limit)
	}
	if r := sh(t, sb, "echo alive"); string(r.Stdout) != "alive\n" {
		t.Errorf("sandbox after the open-files test: %+v", r)
	}
}

// TestOneLargeAllocation: one allocation far past the sandbox's memory
// (gVisor shares one host memory cgroup with the sandbox's processes,
// google/gvisor#2535) either has its process killed or stops the sandbox
// with reason oom; then the sandbox is kept, with its durable disk, and a
// use starts it again.
func TestOneLargeAllocation(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{MemoryMB: 256})
	sh(t, sb, "echo kept > /root/state && sync")
	ctx := ctxT(t, 2*time.Minute)
	start := time.Now()
	res, err := sb.Exec(ctx, client.ExecRequest{Cmd: []string{"python3", "-c", "b = bytearray(1 << 30); print('survived')"}})
	t.Logf("one 1 GiB allocation in 256 MB: %+v %v after %v", res, err, time.Since(start))
	if err == nil && strings.Contains(string(res.Stdout), "survived") {
		t.Fatal("a 1 GiB allocation in a 256 MB sandbox succeeded")
	}
	got, gerr := s.client().Get(ctx, sb.ID)
	if gerr != nil {
		t.Fatal(gerr)
	}
	switch got.State {
	case "running":
		if err != nil || res.ExitCode != 137 {
			t.Errorf("the process was not killed with 137: %+v %v", res, err)
		}
	case "stopped":
		if !strings.HasPrefix(got.StopReason, "oom") {
			t.Errorf("stopped with reason %q, want oom", got.StopReason)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("the exec on a sandbox that ran out of memory took %v", d)
		}
	default:
		t.Fatalf("after the allocation the sandbox is %s (%s)", got.State, got.StopReason)
	}
	if r := sh(t, sb, "cat /root/state"); string(r.Stdout) != "kept\n" {
		t.Errorf("after the allocation (%s): %q", got.State, r.Stdout)
	}
}
