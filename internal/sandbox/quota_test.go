package sandbox_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/quota"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// fixedQuotas gives every team the same limits.
type fixedQuotas struct{ l quota.Limits }

func (f fixedQuotas) Limits(context.Context, string) (string, quota.Limits, error) {
	return "a", f.l, nil
}
func (f fixedQuotas) CheckDisk(context.Context, string) error { return nil }

// record stores a sandbox of team-a in state, as if it were there.
func (e *env) record(t *testing.T, state sandbox.State, vcpus, mem int, ip string, metadata map[string]string) *sandbox.Sandbox {
	t.Helper()
	sb := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", Template: "base", State: state, VCPUs: vcpus, MemoryMB: mem,
		DiskMB: 2048, IP: netip.MustParseAddr(ip), Secret: "s", Metadata: metadata, CreatedAt: time.Now().UTC()}
	if err := e.st.InsertSandbox(context.Background(), sb); err != nil {
		t.Fatal(err)
	}
	return sb
}

func quotaName(err error) string {
	var q *errdefs.QuotaError
	if errors.As(err, &q) {
		return q.Name
	}
	return ""
}

// Running, creating and resuming sandboxes count; paused, stopped and
// build sandboxes do not; a place held counts until released.
func TestQuotaCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mgr.SetQuotas(fixedQuotas{quota.Limits{Sandboxes: 3, VCPUs: 6, MemoryMB: 4096}})
	e.record(t, sandbox.Running, 2, 1024, "10.0.0.2", nil)
	e.record(t, sandbox.Resuming, 1, 512, "10.0.0.3", nil)
	e.record(t, sandbox.Paused, 4, 4096, "10.0.0.4", nil)
	e.record(t, sandbox.Stopped, 4, 4096, "10.0.0.5", nil)
	e.record(t, sandbox.Running, 4, 4096, "10.0.0.6", map[string]string{sandbox.BuildMetadata: "step 1"})
	u, err := e.mgr.Running(ctx, "team-a")
	if err != nil || u.Sandboxes != 2 || u.VCPUs != 3 || u.MemoryMB != 1536 {
		t.Fatalf("counted %+v, %v", u, err)
	}
	if _, err := e.mgr.Reserve(ctx, &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", VCPUs: 4, MemoryMB: 128}); quotaName(err) != quota.VCPUs {
		t.Errorf("4 more vCPUs over 6: %v", err)
	}
	if _, err := e.mgr.Reserve(ctx, &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", VCPUs: 1, MemoryMB: 4096}); quotaName(err) != quota.MemoryMB {
		t.Errorf("4 GB more over 4 GB: %v", err)
	}
	release, err := e.mgr.Reserve(ctx, &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", VCPUs: 1, MemoryMB: 128})
	if err != nil {
		t.Fatalf("the third sandbox: %v", err)
	}
	if _, err := e.mgr.Reserve(ctx, &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", VCPUs: 1, MemoryMB: 128}); quotaName(err) != quota.Sandboxes {
		t.Errorf("a fourth while the third holds its place: %v", err)
	}
	if u, _ := e.mgr.Running(ctx, "team-a"); u.Sandboxes != 3 {
		t.Errorf("a place held is not counted: %+v", u)
	}
	release()
	build := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", VCPUs: 8, MemoryMB: 8192, Metadata: map[string]string{sandbox.BuildMetadata: "x"}}
	if _, err := e.mgr.Reserve(ctx, build); err != nil {
		t.Errorf("a build's sandbox is counted as a build: %v", err)
	}
}

// Concurrent starts never go over the limit.
func TestQuotaConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mgr.SetQuotas(fixedQuotas{quota.Limits{Sandboxes: 2}})
	var mu sync.Mutex
	held, refused := 0, 0
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			_, err := e.mgr.Reserve(ctx, &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", VCPUs: 1, MemoryMB: 128})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused++
			} else {
				held++
			}
		})
	}
	wg.Wait()
	if held != 2 || refused != 4 {
		t.Errorf("%d held, %d refused; want 2 and 4", held, refused)
	}
}

// A create the quota refuses leaves no record, directory or namespace,
// and is a limit event for the team's webhooks.
func TestQuotaRefusedCreateLeavesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mgr.SetQuotas(fixedQuotas{quota.Limits{Sandboxes: 1}})
	e.record(t, sandbox.Running, 2, 1024, "10.0.0.2", nil)
	if err := e.st.CreateWebhook(ctx, store.Webhook{ID: "wh_1", TeamID: "team-a", URL: "http://127.0.0.1:9/", Events: wire.WebhookEventTypes, Secret: "s", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Name: "x"})
	if quotaName(err) != quota.Sandboxes || !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Fatalf("create over the limit: %v", err)
	}
	if left := e.leftovers(t); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if all, _ := e.st.ListSandboxes(ctx, "team-a", true); len(all) != 1 {
		t.Errorf("records: %d, want the one running", len(all))
	}
	out, err := e.st.ClaimDeliveries(ctx, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(out) != 1 || out[0].Type != wire.WebhookLimit {
		t.Errorf("webhook deliveries after the refusal: %+v, %v; want one limit event", out, err)
	}
}
