package integration

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/hostfs"
)

// killSandboxProcess SIGKILLs a sandbox's gVisor process from the host, as
// the OOM killer or a gVisor panic would end it.
func killSandboxProcess(t *testing.T, s *server, id string) {
	t.Helper()
	out, err := exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "state", id).Output()
	if err != nil {
		t.Fatalf("runsc state %s: %v", id, err)
	}
	var st struct{ PID int }
	if err := json.Unmarshal(out, &st); err != nil || st.PID <= 0 {
		t.Fatalf("runsc state %s: %s %v", id, out, err)
	}
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", st.PID, err)
	}
}

// TestCrashKeepsSandboxAndDisk: kill -9 of a sandbox's gVisor process
// leaves it stopped with the reason, listed under its name, its events
// kept, its fsynced files on its disk; a use starts it and they are there.
func TestCrashKeepsSandboxAndDisk(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{Name: "durable"})
	if sb.Disk != "durable" || !sb.AutoStart {
		t.Fatalf("default disk %q auto-start %v, want durable and true", sb.Disk, sb.AutoStart)
	}
	sh(t, sb, "echo synced > /root/p && sync /root/p && mkdir -p /srv/app && echo code > /srv/app/main.js && sync")
	killSandboxProcess(t, s, sb.ID)
	got := waitState(t, s, "durable", "stopped", 30*time.Second)
	if !strings.HasPrefix(got.StopReason, "crashed: exit signal 9") {
		t.Errorf("stop reason %q, want crashed: exit signal 9", got.StopReason)
	}
	list, err := s.client().List(ctxT(t, time.Minute))
	if err != nil || len(list) != 1 || list[0].ID != sb.ID {
		t.Errorf("list after the crash: %+v %v", list, err)
	}
	events, err := s.client().Events(ctxT(t, time.Minute), sb.ID)
	if err != nil || len(events) < 3 || events[len(events)-1].To != "stopped" {
		t.Errorf("events after the crash: %+v %v", events, err)
	}
	// An exec starts it (auto-start), from its disk.
	res := sh(t, sb, "cat /root/p /srv/app/main.js")
	if string(res.Stdout) != "synced\ncode\n" {
		t.Errorf("after the crash and an auto-start: %q %q", res.Stdout, res.Stderr)
	}
	if got := waitState(t, s, sb.ID, "running", 30*time.Second); got.IP != sb.IP || got.Name != "durable" {
		t.Errorf("started as %+v, want IP %s", got, sb.IP)
	}
	checkNoOrphans(t, s)
}

// TestStopStart: stop ends the processes and keeps the disk; start boots
// it again with the same identity; with auto-start off a use is refused
// with what to do.
func TestStopStart(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 3*time.Minute)
	off := false
	sb := create(t, s, client.CreateRequest{Name: "stopper", AutoStart: &off})
	sh(t, sb, "echo kept > /root/file")
	if _, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"sleep", "1000"}}); err != nil {
		t.Fatal(err)
	}
	stopped, err := s.client().Stop(ctx, "stopper")
	if err != nil || stopped.State != "stopped" || !strings.HasPrefix(stopped.StopReason, "stopped") {
		t.Fatalf("stop: %+v %v", stopped, err)
	}
	if ids := runscIDs(s); len(ids) != 0 {
		t.Errorf("a stopped sandbox still runs: %v", ids)
	}
	_, err = s.client().Exec(ctx, sb.ID, client.ExecRequest{Cmd: []string{"true"}})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 409 || !strings.Contains(apiErr.Message, "sandbox start") {
		t.Errorf("exec on a stopped sandbox without auto-start: %v, want 409 saying to start it", err)
	}
	started, err := s.client().Boot(ctx, "stopper")
	if err != nil || started.State != "running" || started.IP != sb.IP || started.ID != sb.ID {
		t.Fatalf("start: %+v %v", started, err)
	}
	res := sh(t, sb, "cat /root/file; pgrep -c -x sleep || true")
	if string(res.Stdout) != "kept\n0\n" {
		t.Errorf("after stop and start: %q (want the file, and no process of before)", res.Stdout)
	}
	if again, err := s.client().Stop(ctx, sb.ID); err != nil {
		t.Fatal(err)
	} else if again, err = s.client().Stop(ctx, sb.ID); err != nil || again.State != "stopped" {
		t.Errorf("stopping a stopped sandbox: %+v %v", again, err)
	}
	if err := s.client().Destroy(ctx, sb.ID); err != nil {
		t.Errorf("destroy of a stopped sandbox: %v", err)
	}
	if got, err := s.client().Get(ctx, sb.ID); err != nil || got.State != "destroyed" {
		t.Errorf("after destroy: %+v %v", got, err)
	}
	checkNoOrphans(t, s)
}

// TestEphemeralDisk: --disk ephemeral is today's in-memory layer: fast,
// and gone with a crash; the sandbox still starts again, from its template.
func TestEphemeralDisk(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{Disk: "ephemeral"})
	if sb.Disk != "ephemeral" {
		t.Fatalf("disk %q", sb.Disk)
	}
	sh(t, sb, "echo gone > /root/p && sync")
	killSandboxProcess(t, s, sb.ID)
	got := waitState(t, s, sb.ID, "stopped", 30*time.Second)
	if !strings.Contains(got.StopReason, "ephemeral") {
		t.Errorf("stop reason %q does not say the disk was ephemeral", got.StopReason)
	}
	if res := sh(t, sb, "cat /root/p 2>&1; echo rc=$?"); !strings.Contains(string(res.Stdout), "No such file") {
		t.Errorf("an ephemeral disk survived a crash: %q", res.Stdout)
	}
	if _, err := s.client().Create(ctxT(t, time.Minute), client.CreateRequest{Disk: "floppy"}); err == nil {
		t.Error("disk floppy accepted")
	}
}

// TestSnapshotsCarryTheDisk: snapshot, rollback and fork take the durable
// disk with the memory, at one instant.
func TestSnapshotsCarryTheDisk(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 3*time.Minute)
	sb := create(t, s, client.CreateRequest{IdleTimeout: intPtr(0)})
	sh(t, sb, "echo one > /root/f && mkdir /root/d && echo x > /root/d/x")
	if _, err := s.client().TakeSnapshot(ctx, sb.ID, "one"); err != nil {
		t.Fatal(err)
	}
	sh(t, sb, "echo two > /root/f && rm -r /root/d")
	if _, err := s.client().Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client().TakeSnapshot(ctx, sb.ID, "two"); err != nil { // of a paused sandbox
		t.Fatal(err)
	}
	if _, err := s.client().Stop(ctx, sb.ID); err != nil { // a stopped sandbox rolls back too
		t.Fatal(err)
	}
	if _, err := s.client().Rollback(ctx, sb.ID, "one"); err != nil {
		t.Fatal(err)
	}
	if res := sh(t, sb, "cat /root/f /root/d/x"); string(res.Stdout) != "one\nx\n" {
		t.Errorf("after rollback to one: %q %q", res.Stdout, res.Stderr)
	}
	fork, err := s.client().Fork(ctx, sb.ID, client.ForkRequest{Snapshot: "two"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.client().Destroy(context.Background(), fork.ID) })
	if res := sh(t, fork, "cat /root/f; ls /root/d 2>&1 | head -1; echo fork > /root/f"); !strings.HasPrefix(string(res.Stdout), "two\n") {
		t.Errorf("fork of two: %q", res.Stdout)
	}
	if res := sh(t, sb, "cat /root/f"); string(res.Stdout) != "one\n" {
		t.Errorf("a fork's write reached its parent: %q", res.Stdout)
	}
	// A fork is durable too: it survives its own crash.
	sh(t, fork, "sync")
	killSandboxProcess(t, s, fork.ID)
	waitState(t, s, fork.ID, "stopped", 30*time.Second)
	if res := sh(t, fork, "cat /root/f"); string(res.Stdout) != "fork\n" {
		t.Errorf("fork after its crash: %q", res.Stdout)
	}
}

// TestHostReboot: every runsc process and the daemon killed, then the
// daemon started: each of 10 sandboxes in mixed states is paused and
// resumable or stopped and startable, with its files. Nothing vanishes.
func TestHostReboot(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 5*time.Minute)
	var ids []string
	for i := range 10 {
		sb := create(t, s, client.CreateRequest{Name: "r" + strconv.Itoa(i), MemoryMB: 256, IdleTimeout: intPtr(0)})
		sh(t, sb, "echo "+strconv.Itoa(i)+" > /root/n && sync")
		switch i % 3 {
		case 1:
			if _, err := s.client().Pause(ctx, sb.ID); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err := s.client().Stop(ctx, sb.ID); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, sb.ID)
	}
	s.kill()
	if out, err := exec.Command("pkill", "-9", "-f", "--", "--root="+filepath.Join(s.dataDir, "runsc")).CombinedOutput(); err != nil {
		t.Logf("pkill: %v %s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	// A reboot also takes every mount: the disks are mounted again.
	if err := hostfs.UnmountUnder(filepath.Join(s.dataDir, "sandboxes")); err != nil {
		t.Fatal(err)
	}
	s.start()
	for i, id := range ids {
		got, err := s.client().Get(ctx, id)
		if err != nil {
			t.Fatalf("r%d vanished: %v", i, err)
		}
		if got.State != "paused" && got.State != "stopped" {
			t.Errorf("r%d is %s (%s), want paused or stopped", i, got.State, got.StopReason)
		}
		res, err := s.client().Exec(ctx, id, client.ExecRequest{Cmd: []string{"cat", "/root/n"}})
		if err != nil || string(res.Stdout) != strconv.Itoa(i)+"\n" {
			t.Errorf("r%d (%s) after the reboot: %+v %v", i, got.State, res, err)
		}
	}
	checkNoOrphans(t, s)
}
