package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/network"
)

// The reliability suite: `make reliability` runs its long form (50 kills,
// 50 concurrent sandboxes); `make test` a short one.

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// checkResources asserts, beyond checkNoOrphans, that every runsc process,
// host veth and mount of the server maps to exactly one live record, and
// that every live record has its resources: a running sandbox its runsc
// container, a paused one no process at all.
func checkResources(t *testing.T, s *server) {
	t.Helper()
	checkNoOrphans(t, s)
	checkFirewall(t, s)
	list, err := s.client().List(ctxT(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, sb := range list {
		state[sb.ID] = sb.State
	}
	// runsc processes (run, gofer, sandbox), found by their bundle.
	procs := map[string]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(data), "--root="+filepath.Join(s.dataDir, "runsc")) {
			continue
		}
		for _, a := range strings.Split(string(data), "\x00") {
			if b, ok := strings.CutPrefix(a, "--bundle="); ok {
				procs[filepath.Base(filepath.Dir(b))]++
			}
		}
	}
	for id := range procs {
		if state[id] != "running" {
			t.Errorf("runsc process of %s, which is %q", id, state[id])
		}
	}
	running := map[string]bool{}
	for _, id := range runscIDs(s) {
		running[id] = true
	}
	for id, st := range state {
		if st == "running" && !running[id] {
			t.Errorf("%s recorded running without a runsc container", id)
		}
		if st == "paused" && running[id] {
			t.Errorf("%s recorded paused with a runsc container", id)
		}
	}
	// runsc's control sockets: one in its root for each running sandbox,
	// none elsewhere. A stale one makes the next resume of its sandbox bind
	// in the next directory (/run, then /tmp), then fail.
	socks, _ := filepath.Glob(filepath.Join(s.dataDir, "runsc", "runsc-*.sock"))
	for _, p := range socks {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "runsc-"), ".sock")
		if state[id] != "running" {
			t.Errorf("control socket %s of %s, which is %q", p, id, state[id])
		}
	}
	for id := range state {
		for _, dir := range []string{"/run", "/tmp"} {
			if p := filepath.Join(dir, "runsc-"+id+".sock"); fileExists(p) {
				t.Errorf("control socket %s of %s outside runsc's root", p, id)
			}
		}
	}
	// Host veths on the server's bridge each belong to a live sandbox.
	want := map[string]string{}
	for id := range state {
		want[network.VethName(s.bridge, id)] = id
	}
	out, _ := exec.Command("ip", "-o", "link", "show", "master", s.bridge).Output()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if want[name] == "" {
			t.Errorf("veth %s on %s belongs to no live sandbox (live: %v)", name, s.bridge, state)
		}
	}
	// Mounts under the data directory belong to live sandboxes.
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || !strings.HasPrefix(f[4], s.dataDir) {
			continue
		}
		rel, _ := filepath.Rel(filepath.Join(s.dataDir, "sandboxes"), f[4])
		id, _, _ := strings.Cut(rel, "/")
		if state[id] == "" {
			t.Errorf("mount %s of no live sandbox", f[4])
		}
	}
}

// TestKillAtRandom SIGKILLs the daemon at a random moment of a random
// operation, restarts it, and checks that nothing is orphaned or lost.
// RUNTOOLS_RELIABILITY_KILLS sets the number of trials (default 8; the
// long form, `make reliability`, runs 50).
func TestKillAtRandom(t *testing.T) {
	trials := envInt("RUNTOOLS_RELIABILITY_KILLS", 8)
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("RUNTOOLS_RELIABILITY_SEED"), 10, 64); err == nil {
		seed = v
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d (RUNTOOLS_RELIABILITY_SEED=%d repeats this run)", seed, seed)

	s := startServer(t)
	ctx := ctxT(t, 30*time.Minute)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	sh(t, sb, "echo kept > /root/file")
	if _, err := s.client().TakeSnapshot(ctx, sb.ID, "base"); err != nil {
		t.Fatal(err)
	}
	c := s.client()
	ops := []struct {
		name string
		prep func() // brings the main sandbox into the state the operation starts from
		run  func(ctx context.Context) error
	}{
		{"create", nil, func(ctx context.Context) error { _, err := c.Create(ctx, client.CreateRequest{}); return err }},
		{"exec", nil, func(ctx context.Context) error {
			_, err := c.Exec(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sh", "-c", "echo x > /tmp/x; sleep 0.2"}})
			return err
		}},
		{"pause", func() { c.Resume(ctx, sb.ID) }, func(ctx context.Context) error { _, err := c.Pause(ctx, sb.ID); return err }},
		{"resume", func() { c.Pause(ctx, sb.ID) }, func(ctx context.Context) error { _, err := c.Resume(ctx, sb.ID); return err }},
		{"snapshot", nil, func(ctx context.Context) error { _, err := c.TakeSnapshot(ctx, sb.ID, ""); return err }},
		{"rollback", nil, func(ctx context.Context) error { _, err := c.Rollback(ctx, sb.ID, "base"); return err }},
		{"fork", nil, func(ctx context.Context) error {
			_, err := c.Fork(ctx, sb.ID, client.ForkRequest{Snapshot: "base"})
			return err
		}},
		{"egress", nil, func(ctx context.Context) error {
			e := client.Egress{Default: "deny", Allow: []string{"10.0.0.0/8", "example.com"}}
			if rng.IntN(2) == 0 {
				e = client.Egress{}
			}
			_, err := c.SetEgress(ctx, sb.ID, e)
			return err
		}},
		{"create with a policy", nil, func(ctx context.Context) error {
			_, err := c.Create(ctx, client.CreateRequest{Egress: &client.Egress{Deny: []string{"192.0.2.0/24"}}})
			return err
		}},
		{"destroy", nil, func(ctx context.Context) error {
			victim, err := c.Create(ctx, client.CreateRequest{})
			if err != nil {
				return err
			}
			return c.Destroy(ctx, victim.ID)
		}},
	}
	counts := map[string]int{}
	for i := range trials {
		op := ops[rng.IntN(len(ops))]
		if op.prep != nil {
			op.prep()
		}
		delay := time.Duration(rng.IntN(250)) * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- op.run(context.Background()) }()
		time.Sleep(delay)
		s.kill()
		err := <-done
		s.start()
		counts[op.name]++
		t.Logf("trial %d: killed %v into %s (%v)", i+1, delay, op.name, err)
		checkUsable(t, s, sb.ID)
		checkResources(t, s)
		if t.Failed() {
			t.Fatalf("stopping after trial %d (seed %d)", i+1, seed)
		}
		// Keep the machine tidy: sandboxes the trials made go.
		if list, err := c.List(ctx); err == nil && len(list) > 4 {
			for _, o := range list {
				if o.ID != sb.ID {
					c.Destroy(ctx, o.ID)
				}
			}
		}
	}
	t.Logf("kills per operation: %v", counts)
	checkResources(t, s)
}

// TestLoad creates sandboxes concurrently, runs an exec in each in
// parallel, and reports the p50 and p99 of both. RUNTOOLS_RELIABILITY_LOAD
// sets how many (default 20; the long form runs 50).
func TestLoad(t *testing.T) {
	n := envInt("RUNTOOLS_RELIABILITY_LOAD", 20)
	s := startServer(t)
	ctx := ctxT(t, 10*time.Minute)
	var mu sync.Mutex
	var creates, execs []time.Duration
	var sbs []*client.Sandbox
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			t0 := time.Now()
			sb, err := s.client().Create(ctx, client.CreateRequest{MemoryMB: 256})
			if err != nil {
				t.Errorf("create: %v", err)
				return
			}
			mu.Lock()
			creates = append(creates, time.Since(t0))
			sbs = append(sbs, sb)
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("%d concurrent creates took %v", n, time.Since(start).Round(time.Millisecond))
	for _, sb := range sbs {
		wg.Go(func() {
			t0 := time.Now()
			res, err := sb.Exec(ctx, client.ExecRequest{Cmd: []string{"hostname"}})
			if err != nil || strings.TrimSpace(string(res.Stdout)) != sb.ID {
				t.Errorf("exec in %s: %+v %v", sb.ID, res, err)
				return
			}
			mu.Lock()
			execs = append(execs, time.Since(t0))
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("create: %s; exec in parallel: %s", percentiles(creates), percentiles(execs))
	if len(creates) != n || len(execs) != n {
		t.Errorf("%d creates and %d execs succeeded, want %d each", len(creates), len(execs), n)
	}
	for _, sb := range sbs {
		wg.Go(func() {
			if err := s.client().Destroy(context.Background(), sb.ID); err != nil {
				t.Errorf("destroy %s: %v", sb.ID, err)
			}
		})
	}
	wg.Wait()
	checkResources(t, s)
}

func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))].Round(time.Millisecond) }
	return fmt.Sprintf("p50 %v, p99 %v, max %v (n=%d)", at(0.5), at(0.99), s[len(s)-1].Round(time.Millisecond), len(s))
}
