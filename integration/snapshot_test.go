package integration

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	_ "modernc.org/sqlite"
)

func TestSnapshotRollback(t *testing.T) {
	s := startServer(t)
	sb := statefulSandbox(t, s, client.CreateRequest{}, "echo v1 > /root/state")
	c := s.client()
	ctx := ctxT(t, 5*time.Minute)
	before, err := counter(sb.IP)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.TakeSnapshot(ctx, sb.ID, "before-migration")
	if err != nil {
		t.Fatal(err)
	}
	if snap.SizeBytes == 0 || snap.Name != "before-migration" {
		t.Errorf("snapshot %+v", snap)
	}
	// The sandbox kept running through the snapshot.
	if got, _ := c.Get(ctx, sb.ID); got.State != "running" {
		t.Errorf("state after snapshot: %s", got.State)
	}
	if _, err := c.TakeSnapshot(ctx, sb.ID, "before-migration"); !errors.Is(err, client.ErrAlreadyExists) {
		t.Errorf("duplicate snapshot name: %v", err)
	}
	sh(t, sb, "echo v2 > /root/state; touch /root/new-file")
	time.Sleep(300 * time.Millisecond)
	later, _ := counter(sb.IP)
	if _, err := c.TakeSnapshot(ctx, sb.ID, "after"); err != nil {
		t.Fatal(err)
	}
	list, err := c.Snapshots(ctx, sb.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("snapshots: %+v %v", list, err)
	}

	got, err := c.Rollback(ctx, sb.ID, "before-migration")
	if err != nil || got.State != "running" || got.IP != sb.IP || got.ID != sb.ID {
		t.Fatalf("rollback: %+v %v", got, err)
	}
	if res := sh(t, sb, "cat /root/state; ls /root/new-file 2>&1 || true"); !strings.HasPrefix(string(res.Stdout), "v1\n") || !strings.Contains(string(res.Stdout), "No such file") {
		t.Errorf("disk after rollback: %q", res.Stdout)
	}
	n, err := counter(sb.IP)
	if err != nil || n < before || n >= later {
		t.Errorf("counter after rollback %d (%v), want from %d and below %d", n, err, before, later)
	}
	// Default: the latest snapshot.
	if _, err := c.Rollback(ctx, sb.ID, ""); err != nil {
		t.Fatal(err)
	}
	if res := sh(t, sb, "cat /root/state"); string(res.Stdout) != "v2\n" {
		t.Errorf("after rollback to the latest: %q", res.Stdout)
	}
	if _, err := c.Rollback(ctx, sb.ID, "no-such"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("unknown snapshot: %v", err)
	}
	// Pause, then rollback from paused; delete frees the snapshot.
	if _, err := c.Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, sb.ID, "before-migration"); err != nil {
		t.Fatalf("rollback of a paused sandbox: %v", err)
	}
	if res := sh(t, sb, "cat /root/state"); string(res.Stdout) != "v1\n" {
		t.Errorf("after rollback from paused: %q", res.Stdout)
	}
	if err := c.DeleteSnapshot(ctx, sb.ID, "after"); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.Snapshots(ctx, sb.ID); len(list) != 1 {
		t.Errorf("after delete: %+v", list)
	}
}

func TestForks(t *testing.T) {
	s := startServer(t)
	parent := statefulSandbox(t, s, client.CreateRequest{Name: "parent"}, "echo from-parent > /root/origin")
	c := s.client()
	ctx := ctxT(t, 5*time.Minute)
	if _, err := c.TakeSnapshot(ctx, parent.ID, "base"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	forks := make([]*client.Sandbox, 3)
	errs := make([]error, 3)
	for i := range forks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forks[i], errs[i] = c.Fork(ctx, parent.ID, client.ForkRequest{Name: fmt.Sprintf("child-%d", i), Snapshot: "base"})
		}()
	}
	wg.Wait()
	seen := map[string]bool{parent.IP: true}
	for i, f := range forks {
		if errs[i] != nil {
			t.Fatalf("fork %d: %v", i, errs[i])
		}
		t.Cleanup(func() { c.Destroy(ctx, f.ID) })
		if seen[f.IP] || f.ID == parent.ID || f.State != "running" {
			t.Errorf("fork %d: %+v", i, f)
		}
		seen[f.IP] = true
		res := sh(t, f, fmt.Sprintf("cat /root/origin; echo %d > /root/mine; cat /root/mine", i))
		if string(res.Stdout) != fmt.Sprintf("from-parent\n%d\n", i) {
			t.Errorf("fork %d files: %q", i, res.Stdout)
		}
		if _, err := counter(f.IP); err != nil {
			t.Errorf("fork %d server: %v", i, err)
		}
	}
	// Forks and parent are independent.
	if res := sh(t, parent, "cat /root/mine 2>/dev/null || echo none"); string(res.Stdout) != "none\n" {
		t.Errorf("a fork's write reached the parent: %q", res.Stdout)
	}
	// A fork without --from takes the current state.
	sh(t, parent, "echo now > /root/origin")
	f, err := c.Fork(ctx, parent.ID, client.ForkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy(ctx, f.ID) })
	if res := sh(t, f, "cat /root/origin"); string(res.Stdout) != "now\n" {
		t.Errorf("fork of the current state: %q", res.Stdout)
	}
	if list, _ := c.Snapshots(ctx, parent.ID); len(list) != 1 {
		t.Errorf("the fork's own snapshot was kept: %+v", list)
	}
	// Destroying the parent frees its snapshots; forks live on.
	if err := c.Destroy(ctx, parent.ID); err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(s.dataDir, "snapshots", "*")); len(matches) != 0 {
		t.Errorf("snapshot files left after destroy: %v", matches)
	}
	if res := sh(t, forks[0], "echo alive"); string(res.Stdout) != "alive\n" {
		t.Errorf("fork after the parent went: %+v", res)
	}
}

// TestSnapshotDiskFull: a snapshot that does not fit fails clearly, leaves
// nothing behind, and the previous snapshot still restores.
func TestSnapshotDiskFull(t *testing.T) {
	s := startServerWith(t, func(dataDir string) {
		dir := filepath.Join(dataDir, "snapshots")
		if out, err := exec.Command("mkdir", "-p", dir).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Fatalf("mounting a small snapshot disk: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	})
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	c := s.client()
	ctx := ctxT(t, 5*time.Minute)
	sh(t, sb, "echo first > /root/state")
	if _, err := c.TakeSnapshot(ctx, sb.ID, "first"); err != nil {
		t.Fatalf("first snapshot: %v", err)
	}
	// Make the next image too big for what is left.
	sh(t, sb, "echo second > /root/state; head -c 60000000 /dev/urandom > /root/big")
	_, err := c.TakeSnapshot(ctx, sb.ID, "second")
	if !errors.Is(err, client.ErrResourceExhausted) || !strings.Contains(err.Error(), "space") {
		t.Fatalf("snapshot on a full disk: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(s.dataDir, "snapshots", "*")); len(matches) != 1 {
		t.Errorf("files after the failed snapshot: %v", matches)
	}
	if list, _ := c.Snapshots(ctx, sb.ID); len(list) != 1 {
		t.Errorf("snapshots after the failed one: %+v", list)
	}
	if _, err := c.Rollback(ctx, sb.ID, "first"); err != nil {
		t.Fatalf("rollback to the previous snapshot: %v", err)
	}
	if res := sh(t, sb, "cat /root/state"); string(res.Stdout) != "first\n" {
		t.Errorf("after rollback: %q", res.Stdout)
	}
}

// TestTokensRenewed: after a rollback or a fork the agent's token is new,
// and the old one is refused.
func TestTokensRenewed(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	c := s.client()
	ctx := ctxT(t, 3*time.Minute)
	if _, err := c.TakeSnapshot(ctx, sb.ID, "s"); err != nil {
		t.Fatal(err)
	}
	old := agentSecret(t, s, sb.ID)
	if _, err := c.Rollback(ctx, sb.ID, "s"); err != nil {
		t.Fatal(err)
	}
	renewed := agentSecret(t, s, sb.ID)
	f, err := c.Fork(ctx, sb.ID, client.ForkRequest{Snapshot: "s"})
	if err != nil {
		t.Fatal(err)
	}
	forked := agentSecret(t, s, f.ID)
	if old == renewed || old == forked || renewed == forked {
		t.Fatalf("tokens not renewed: %s %s %s", old[:6], renewed[:6], forked[:6])
	}
	for _, tc := range []struct{ ip, token string }{{sb.IP, old}, {f.IP, old}} {
		req, _ := http.NewRequest("GET", "http://"+tc.ip+":49983/health", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := noKeepAlive.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("old token at %s: %d, want 401", tc.ip, resp.StatusCode)
		}
	}
	if res := sh(t, f, "echo ok"); string(res.Stdout) != "ok\n" {
		t.Errorf("fork after renewal: %+v", res)
	}
}

// agentSecret reads a sandbox's agent token from the server's database.
func agentSecret(t *testing.T, s *server, id string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dataDir, "runtools.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var secret string
	if err := db.QueryRow(`SELECT secret FROM sandboxes WHERE id = ?`, id).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	return secret
}
