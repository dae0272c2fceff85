package integration

import (
	"context"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// checkNoOrphans asserts that every runsc container and network namespace
// belongs to a running or paused sandbox, every sandbox directory to one
// not destroyed (a stopped one keeps its disk), and that no record is left
// in a transitional state.
func checkNoOrphans(t *testing.T, s *server) {
	t.Helper()
	list, err := s.client().List(ctxT(t, time.Minute), client.IncludeDestroyed())
	if err != nil {
		t.Fatal(err)
	}
	running, kept := map[string]bool{}, map[string]bool{}
	for _, sb := range list {
		switch sb.State {
		case "running", "paused":
			running[sb.ID], kept[sb.ID] = true, true
		case "stopped", "destroyed":
			kept[sb.ID] = sb.State == "stopped"
			if sb.StopReason == "" {
				t.Errorf("%s %s without a reason", sb.ID, sb.State)
			}
		default:
			t.Errorf("%s left in state %s", sb.ID, sb.State)
		}
	}
	for _, id := range runscIDs(s) {
		if !running[id] {
			t.Errorf("orphaned runsc container %s", id)
		}
	}
	for _, ns := range netnsList(s) {
		if !running[strings.TrimPrefix(ns, s.bridge+"-")] {
			t.Errorf("orphaned network namespace %s", ns)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(s.dataDir, "sandboxes"))
	for _, e := range entries {
		if !kept[e.Name()] {
			t.Errorf("orphaned sandbox directory %s", e.Name())
		}
	}
}

func TestKillDuringCreate(t *testing.T) {
	s := startServer(t)
	for _, delay := range []time.Duration{0, 20 * time.Millisecond, 50 * time.Millisecond, 90 * time.Millisecond, 140 * time.Millisecond, 250 * time.Millisecond} {
		done := make(chan error, 1)
		go func() {
			_, err := s.client().Create(context.Background(), client.CreateRequest{MemoryMB: 256})
			done <- err
		}()
		time.Sleep(delay)
		s.kill()
		err := <-done
		s.start()
		t.Logf("killed %v into a create (create: %v)", delay, err)
		checkNoOrphans(t, s)
	}
	// The server still works.
	sb := create(t, s, client.CreateRequest{})
	if res := sh(t, sb, "echo ok"); string(res.Stdout) != "ok\n" {
		t.Errorf("after crashes: %+v", res)
	}
}

func TestAdoptAfterKill(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{Name: "survivor"})
	ctx := ctxT(t, 2*time.Minute)
	pid, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sleep", "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	sh(t, sb, "echo before > /root/state")
	s.kill()
	s.start()
	got, err := s.client().Get(ctx, "survivor")
	if err != nil || got.State != "running" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	if res := sh(t, sb, "cat /root/state"); string(res.Stdout) != "before\n" {
		t.Errorf("state lost: %q", res.Stdout)
	}
	procs, err := s.client().Processes(ctx, sb.ID)
	found := false
	for _, p := range procs {
		found = found || (p.PID == pid && p.Running)
	}
	if err != nil || !found {
		t.Errorf("background process %d not running after restart: %+v %v", pid, procs, err)
	}
	checkNoOrphans(t, s)
}

func TestLostWhileDown(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	s.kill()
	out, err := exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "delete", "--force", sb.ID).CombinedOutput()
	if err != nil {
		t.Fatalf("killing the sandbox behind the daemon's back: %v %s", err, out)
	}
	s.start()
	got, err := s.client().Get(ctxT(t, time.Minute), sb.ID)
	if err != nil || got.State != "stopped" || !strings.HasPrefix(got.StopReason, "crashed") {
		t.Errorf("sandbox that died while the daemon was down: %+v %v", got, err)
	}
	checkNoOrphans(t, s)
}

// TestCrashWhileRunning: a sandbox that dies on its own is reported and cleaned up.
func TestCrashWhileRunning(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	// Kill the sandbox's own runsc process from the host.
	out, err := exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "kill", sb.ID, "KILL").CombinedOutput()
	if err != nil {
		t.Fatalf("runsc kill: %v %s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := s.client().Get(ctxT(t, time.Minute), sb.ID)
		if err == nil && got.State == "stopped" {
			if !strings.HasPrefix(got.StopReason, "crashed") {
				t.Errorf("stop reason %q, want crashed", got.StopReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox still %s after its process was killed", got.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkNoOrphans(t, s)
}

// checkUsable asserts a sandbox is running or paused and answers an exec
// (which wakes it if paused), with its file intact.
func checkUsable(t *testing.T, s *server, id string) {
	t.Helper()
	sb, err := s.client().Get(ctxT(t, time.Minute), id)
	if err != nil {
		t.Fatal(err)
	}
	if sb.State != "running" && sb.State != "paused" {
		t.Fatalf("after restart the sandbox is %s (%s), want running or paused", sb.State, sb.StopReason)
	}
	res, err := s.client().Exec(ctxT(t, time.Minute), id, client.ExecRequest{Cmd: []string{"cat", "/root/file"}})
	if err != nil || string(res.Stdout) != "kept\n" {
		t.Fatalf("after restart (%s): %+v %v", sb.State, res, err)
	}
}

// TestKillDuringPauseResume: SIGKILL of the daemon in the middle of a pause
// or a resume leaves the sandbox as it was or fully moved, never lost.
func TestKillDuringPauseResume(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	sh(t, sb, "echo kept > /root/file")
	for _, delay := range []time.Duration{0, 15 * time.Millisecond, 40 * time.Millisecond, 70 * time.Millisecond, 110 * time.Millisecond, 160 * time.Millisecond} {
		for _, op := range []string{"pause", "resume"} {
			cur, err := s.client().Get(ctxT(t, time.Minute), sb.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Get into the state the operation starts from.
			if op == "pause" && cur.State == "paused" {
				s.client().Resume(ctxT(t, time.Minute), sb.ID)
			}
			if op == "resume" && cur.State == "running" {
				s.client().Pause(ctxT(t, time.Minute), sb.ID)
			}
			done := make(chan error, 1)
			go func() {
				var err error
				if op == "pause" {
					_, err = s.client().Pause(context.Background(), sb.ID)
				} else {
					_, err = s.client().Resume(context.Background(), sb.ID)
				}
				done <- err
			}()
			time.Sleep(delay)
			s.kill()
			err = <-done
			s.start()
			got, _ := s.client().Get(ctxT(t, time.Minute), sb.ID)
			t.Logf("killed %v into a %s (%v): now %s", delay, op, err, got.State)
			checkUsable(t, s, sb.ID)
			checkNoOrphans(t, s)
		}
	}
}

// TestKillDuringSnapshots: SIGKILL in the middle of a snapshot, a rollback
// or a fork leaves every sandbox as it was or fully moved, and no snapshot
// half-written.
func TestKillDuringSnapshots(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	sh(t, sb, "echo kept > /root/file")
	if _, err := s.client().TakeSnapshot(ctxT(t, time.Minute), sb.ID, "base"); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"snapshot": func() error {
			_, err := s.client().TakeSnapshot(context.Background(), sb.ID, "")
			return err
		},
		"rollback": func() error {
			_, err := s.client().Rollback(context.Background(), sb.ID, "base")
			return err
		},
		"fork": func() error {
			_, err := s.client().Fork(context.Background(), sb.ID, client.ForkRequest{Snapshot: "base"})
			return err
		},
	}
	for _, delay := range []time.Duration{10 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond} {
		for name, op := range ops {
			done := make(chan error, 1)
			go func() { done <- op() }()
			time.Sleep(delay)
			s.kill()
			err := <-done
			s.start()
			t.Logf("killed %v into a %s (%v)", delay, name, err)
			checkUsable(t, s, sb.ID)
			checkNoOrphans(t, s)
			list, err := s.client().Snapshots(ctxT(t, time.Minute), sb.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, sn := range list {
				if sn.SizeBytes == 0 {
					t.Errorf("snapshot %s listed with no image", sn.Name)
				}
			}
		}
	}
	// Every fork that survived works.
	all, _ := s.client().List(ctxT(t, time.Minute))
	for _, f := range all {
		if f.ID == sb.ID {
			continue
		}
		checkUsable(t, s, f.ID)
	}
}
