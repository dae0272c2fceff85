package sandbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/sandbox"
)

// meteredRuntime is a fakeRuntime whose sandbox reports disk use and CPU
// throttling counters set by the test.
type meteredRuntime struct {
	*fakeRuntime
	mu                 sync.Mutex
	disk               int64
	periods, throttled int64
}

var (
	_ sandbox.UsageMeter    = (*meteredRuntime)(nil)
	_ sandbox.ThrottleMeter = (*meteredRuntime)(nil)
)

func (r *meteredRuntime) Memory(string) (int64, int64, error) { return 0, 0, errors.New("no memory") }

func (r *meteredRuntime) Disk(string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.disk, nil
}

func (r *meteredRuntime) CPUThrottling(string) (int64, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.periods, r.throttled, nil
}

// run adds n busy periods, throttled of them throttled.
func (r *meteredRuntime) run(n, throttled int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.periods += n
	r.throttled += throttled
}

// limitEnv is a manager over a metered runtime with one running sandbox,
// and a process count the test sets.
type limitEnv struct {
	*env
	rt    *meteredRuntime
	sb    *sandbox.Sandbox
	state map[string]sandbox.LimitState

	mu      sync.Mutex
	pids    int
	pidsErr error
}

func newLimitEnv(t *testing.T) *limitEnv {
	t.Helper()
	base := newEnv(t)
	le := &limitEnv{env: base, rt: &meteredRuntime{fakeRuntime: base.rt}}
	mgr, err := sandbox.NewManager(sandbox.Config{Dir: base.dir, AgentBinary: "/bin/true", Nproc: 1000},
		slog.New(slog.NewTextHandler(io.Discard, nil)), le.rt, base.net, fakeTemplates{}, base.st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Shutdown)
	mgr.SetPidsCounter(func(context.Context, *sandbox.Sandbox) (int, error) {
		le.mu.Lock()
		defer le.mu.Unlock()
		return le.pids, le.pidsErr
	})
	le.mgr = mgr
	le.sb = &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", Template: "base", State: sandbox.Running,
		IP: netip.MustParseAddr("10.9.0.2"), Secret: "s", VCPUs: 1, MemoryMB: 512, DiskMB: 100,
		CreatedAt: time.Now(), StartedAt: time.Now()}
	if err := base.st.InsertSandbox(context.Background(), le.sb); err != nil {
		t.Fatal(err)
	}
	return le
}

func (le *limitEnv) setPids(n int, err error) {
	le.mu.Lock()
	defer le.mu.Unlock()
	le.pids, le.pidsErr = n, err
}

// check runs n periodic checks, as one each second would.
func (le *limitEnv) check(n int) {
	for range n {
		le.state = le.mgr.CheckLimits(context.Background(), []*sandbox.Sandbox{le.sb}, le.state)
	}
}

// limitEvents returns the reasons of the sandbox's limit events that start
// with prefix.
func (le *limitEnv) limitEvents(t *testing.T, prefix string) []string {
	t.Helper()
	evs, err := le.st.Events(context.Background(), le.sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Why, prefix) {
			out = append(out, ev.Why)
		}
	}
	return out
}

// TestCPUThrottleReportedOnce: a sustained burn that the quota throttles in
// most periods makes one event; idling clears it, so the next burn makes
// another; throttling in fewer than half the periods makes none.
func TestCPUThrottleReportedOnce(t *testing.T) {
	le := newLimitEnv(t)
	le.check(1)
	for range 10 { // ten seconds of four busy loops in one vCPU
		le.rt.run(10, 9)
		le.check(1)
	}
	got := le.limitEvents(t, "limit: cpu")
	if len(got) != 1 || got[0] != "limit: cpu: throttled in 90% of periods at 1 vCPU" {
		t.Fatalf("after a sustained burn: %q, want one event", got)
	}
	if hit := le.mgr.LastLimit(le.sb.ID); hit != got[0] {
		t.Errorf("LastLimit = %q", hit)
	}
	le.check(5) // idle: no periods with work
	if got := le.limitEvents(t, "limit: cpu"); len(got) != 1 {
		t.Fatalf("idling made events: %q", got)
	}
	for range 10 {
		le.rt.run(10, 4) // busy, but held back in fewer than half the periods
		le.check(1)
	}
	if got := le.limitEvents(t, "limit: cpu"); len(got) != 1 {
		t.Fatalf("light throttling made events: %q", got)
	}
	for range 5 {
		le.rt.run(10, 10)
		le.check(1)
	}
	if got := le.limitEvents(t, "limit: cpu"); len(got) != 2 {
		t.Fatalf("a second burn after a clear: %q, want two events", got)
	}
}

// TestCPUThrottleHysteresis: a share that dips between the marks keeps the
// limit reported, without a new event.
func TestCPUThrottleHysteresis(t *testing.T) {
	le := newLimitEnv(t)
	le.check(1)
	for _, throttled := range []int64{8, 8, 8, 3, 3, 3, 3, 8, 8, 8} { // 30%: above the clear mark
		le.rt.run(10, throttled)
		le.check(1)
	}
	if got := le.limitEvents(t, "limit: cpu"); len(got) != 1 {
		t.Fatalf("events %q, want one", got)
	}
}

// TestPidsReportedOnce: a process count at 95% of the limit or more is
// reported once; it must drop below 80% before it is reported again; an
// agent that does not answer is skipped.
func TestPidsReportedOnce(t *testing.T) {
	le := newLimitEnv(t)
	busy := func(n int) { // a sandbox busy forking
		for range n {
			le.rt.run(10, 0)
			le.check(1)
		}
	}
	le.setPids(12, nil)
	busy(4)
	le.check(2) // the sandbox goes idle
	le.setPids(990, nil)
	le.check(10) // idle: its agent is not asked
	if got := le.limitEvents(t, "limit: pids"); len(got) != 0 {
		t.Fatalf("an idle sandbox's agent was asked: %q", got)
	}
	busy(10)
	got := le.limitEvents(t, "limit: pids")
	if len(got) != 1 || got[0] != "limit: pids: 990 processes, the limit is 1000 per user (threads included)" {
		t.Fatalf("after a fork bomb: %q, want one event", got)
	}
	le.setPids(0, errors.New("agent busy"))
	le.check(4)
	le.setPids(850, nil) // between the marks: still near the limit
	le.check(4)
	le.setPids(960, nil)
	le.check(4)
	if got := le.limitEvents(t, "limit: pids"); len(got) != 1 {
		t.Fatalf("without a clear: %q, want one event", got)
	}
	le.setPids(40, nil)
	le.check(4) // reported hit: asked even while idle, so it clears
	le.setPids(1000, nil)
	busy(4)
	if got := le.limitEvents(t, "limit: pids"); len(got) != 2 {
		t.Fatalf("after a clear: %q, want two events", got)
	}
	if hit := le.mgr.LastLimit(le.sb.ID); !strings.HasPrefix(hit, "limit: pids: 1000 processes") {
		t.Errorf("LastLimit = %q", hit)
	}
}

// TestPidsSlowAgent: an agent slow to count its processes (a fork bomb
// shares its CPU) holds up neither the check that asked nor the next ones,
// is not asked again while it works, and its answer counts when it comes.
func TestPidsSlowAgent(t *testing.T) {
	le := newLimitEnv(t)
	release := make(chan struct{})
	var asked atomic.Int32
	le.mgr.SetPidsCounter(func(ctx context.Context, _ *sandbox.Sandbox) (int, error) {
		asked.Add(1)
		select {
		case <-release:
			return 995, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	start := time.Now()
	for i := range 6 {
		le.state = le.mgr.StartLimitCheck(context.Background(), []*sandbox.Sandbox{le.sb}, le.state)
		for i == 0 && asked.Load() == 0 && time.Since(start) < 5*time.Second {
			time.Sleep(time.Millisecond)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("six checks took %v behind a slow agent", took)
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the agent was asked %d times while still counting, want 1", n)
	}
	close(release)
	le.check(1) // waits for the answer, which the next check reads
	le.check(1)
	if got := le.limitEvents(t, "limit: pids"); len(got) != 1 {
		t.Fatalf("after the slow answer: %q, want one event", got)
	}
}

// TestDiskFullReportedOnce: a full layer is reported once until it has
// been freed below 90%.
func TestDiskFullReportedOnce(t *testing.T) {
	le := newLimitEnv(t)
	le.rt.mu.Lock()
	le.rt.disk = 100 << 20
	le.rt.mu.Unlock()
	le.check(12)
	if got := le.limitEvents(t, "limit: disk"); len(got) != 1 {
		t.Fatalf("a full disk: %q, want one event", got)
	}
	le.rt.mu.Lock()
	le.rt.disk = 10 << 20
	le.rt.mu.Unlock()
	le.check(6)
	le.rt.mu.Lock()
	le.rt.disk = 99 << 20
	le.rt.mu.Unlock()
	le.check(6)
	if got := le.limitEvents(t, "limit: disk"); len(got) != 2 {
		t.Fatalf("full again after freeing: %q, want two events", got)
	}
}
