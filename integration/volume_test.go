package integration

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/hostfs"
)

// TestVolumes: a team's volume keeps its files across sandboxes, is shared
// by those that mount it, holds no more than its size, can be mounted
// read-only, survives pause and resume, is not rolled back, is shared by a
// fork, is read and written through the API without a sandbox (no path
// leading out), is invisible to another team, cannot be removed while in
// use, and outlives a kill -9 of the server with its data and one mount.
func TestVolumes(t *testing.T) {
	e := newVolumeEnv(t)
	for _, step := range []struct {
		name string
		run  func(*volumeEnv, *testing.T)
	}{
		{"persists after destroy", (*volumeEnv).volPersistsAfterDestroy},
		{"shared", (*volumeEnv).volShared},
		{"size is enforced", (*volumeEnv).volSizeIsEnforced},
		{"read-only", (*volumeEnv).volReadOnly},
		{"pause and resume", (*volumeEnv).volPauseAndResume},
		{"rollback does not roll it back", (*volumeEnv).volRollbackDoesNotRollItBack},
		{"fork shares it", (*volumeEnv).volForkSharesIt},
		{"files API", (*volumeEnv).volFilesAPI},
		{"other team", (*volumeEnv).volOtherTeam},
		{"bad mounts", (*volumeEnv).volBadMounts},
		{"open file removed while paused", (*volumeEnv).volOpenFileRemovedWhilePaused},
		{"in use cannot be removed", (*volumeEnv).volInUseCannotBeRemoved},
		{"kill -9 and restart", (*volumeEnv).volKill9AndRestart},
		{"host reboot", (*volumeEnv).volHostReboot},
		{"remove", (*volumeEnv).volRemove},
	} {
		t.Run(step.name, func(t *testing.T) { step.run(e, t) })
	}
}

// volumeEnv is a server with the volume "data" (64 MB), which a sandbox
// wrote to and was destroyed, and two sandboxes a and b that mount it.
type volumeEnv struct {
	s    *server
	c    *client.Client
	ctx  context.Context
	vol  client.Volume
	a, b *client.Sandbox
}

func newVolumeEnv(t *testing.T) *volumeEnv {
	e := &volumeEnv{s: startServer(t), ctx: ctxT(t, 10*time.Minute)}
	e.c = e.s.client()
	out, stderr, code := e.s.cli(t, "", "volume", "create", "data", "--size", "64M", "-o", "json")
	if code != 0 {
		t.Fatalf("volume create: %s", stderr)
	}
	if err := json.Unmarshal([]byte(out), &e.vol); err != nil || e.vol.Name != "data" || e.vol.SizeBytes < 60<<20 || e.vol.SizeBytes > 66<<20 {
		t.Fatalf("created volume: %s %v", out, err)
	}
	first := create(t, e.s, mountData(false))
	vrun(t, first, "echo from-first > /mnt/data/hello && mkdir -p /mnt/data/dir && echo in-dir > /mnt/data/dir/f")
	if err := first.Destroy(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.a, e.b = create(t, e.s, mountData(false)), create(t, e.s, mountData(false))
	return e
}

// mountData mounts the volume data at /mnt/data.
func mountData(ro bool) client.CreateRequest {
	return client.CreateRequest{Volumes: []client.VolumeMount{{Volume: "data", Path: "/mnt/data", ReadOnly: ro}}}
}

// vrun runs a shell script that must succeed, and returns its output.
func vrun(t *testing.T, sb *client.Sandbox, script string) string {
	t.Helper()
	res := sh(t, sb, script)
	if res.ExitCode != 0 {
		t.Fatalf("%s: %q exited %d: %s", sb.ID, script, res.ExitCode, res.Stderr)
	}
	return strings.TrimSpace(string(res.Stdout))
}

func (e *volumeEnv) volPersistsAfterDestroy(t *testing.T) {
	if got := vrun(t, e.a, "cat /mnt/data/hello"); got != "from-first" {
		t.Errorf("a new sandbox reads %q", got)
	}
}

func (e *volumeEnv) volShared(t *testing.T) {
	vrun(t, e.a, "echo from-a > /mnt/data/shared")
	if got := vrun(t, e.b, "cat /mnt/data/shared"); got != "from-a" {
		t.Errorf("b reads %q", got)
	}
	vrun(t, e.b, "echo from-b >> /mnt/data/shared")
	if got := vrun(t, e.a, "cat /mnt/data/shared"); got != "from-a\nfrom-b" {
		t.Errorf("a reads %q after b appended", got)
	}
	v, err := e.c.Volume(e.ctx, "data")
	if err != nil || len(v.UsedBy) != 2 {
		t.Errorf("used by %v (%v), want %s and %s", v.UsedBy, err, e.a.ID, e.b.ID)
	}
}

func (e *volumeEnv) volSizeIsEnforced(t *testing.T) {
	res := sh(t, e.a, "dd if=/dev/zero of=/mnt/data/big bs=1M count=100 2>&1; echo status=$?")
	if out := string(res.Stdout); !strings.Contains(out, "No space left on device") || strings.Contains(out, "status=0") {
		t.Errorf("writing 100 MB into 64 MB: %s", out)
	}
	vrun(t, e.a, "rm /mnt/data/big")
}

func (e *volumeEnv) volReadOnly(t *testing.T) {
	ro := create(t, e.s, mountData(true))
	res := sh(t, ro, "echo x > /mnt/data/nope")
	if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "Read-only file system") {
		t.Errorf("a write to a read-only mount: exit %d, %s", res.ExitCode, res.Stderr)
	}
	if got := vrun(t, ro, "cat /mnt/data/hello"); got != "from-first" {
		t.Errorf("read-only mount reads %q", got)
	}
}

func (e *volumeEnv) volPauseAndResume(t *testing.T) {
	if err := e.a.Pause(e.ctx); err != nil {
		t.Fatal(err)
	}
	vrun(t, e.b, "echo while-paused > /mnt/data/hello && echo new > /mnt/data/while-paused")
	if err := e.a.Resume(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, e.a, "cat /mnt/data/hello /mnt/data/while-paused"); got != "while-paused\nnew" {
		t.Errorf("after resume a reads %q", got)
	}
}

func (e *volumeEnv) volRollbackDoesNotRollItBack(t *testing.T) {
	if _, err := e.c.TakeSnapshot(e.ctx, e.a.ID, "before"); err != nil {
		t.Fatal(err)
	}
	vrun(t, e.a, "echo after > /mnt/data/after-snapshot && echo after > /root/after-snapshot")
	if _, err := e.c.Rollback(e.ctx, e.a.ID, "before"); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, e.a, "cat /mnt/data/after-snapshot; test -e /root/after-snapshot && echo rootfs-kept || echo rootfs-rolled-back"); got != "after\nrootfs-rolled-back" {
		t.Errorf("after rollback: %q", got)
	}
}

func (e *volumeEnv) volForkSharesIt(t *testing.T) {
	fork, err := e.c.Fork(e.ctx, e.a.ID, client.ForkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.c.Destroy(e.ctx, fork.ID) })
	if len(fork.Volumes) != 1 || fork.Volumes[0].Volume != "data" || fork.Volumes[0].Path != "/mnt/data" {
		t.Errorf("the fork's volumes: %+v", fork.Volumes)
	}
	vrun(t, fork, "echo from-fork > /mnt/data/fork")
	if got := vrun(t, e.b, "cat /mnt/data/fork"); got != "from-fork" {
		t.Errorf("b reads %q of the fork's write", got)
	}
}

func (e *volumeEnv) volFilesAPI(t *testing.T) {
	files := e.c.VolumeFiles("data")
	if got, err := files.Read(e.ctx, "/dir/f"); err != nil || string(got) != "in-dir\n" {
		t.Errorf("reading what a sandbox wrote: %q %v", got, err)
	}
	if _, err := files.Write(e.ctx, "/api/put.txt", strings.NewReader("from-api"), client.WriteOptions{MkDirs: true}); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, e.b, "cat /mnt/data/api/put.txt"); got != "from-api" {
		t.Errorf("a sandbox reads %q of the API's write", got)
	}
	vrun(t, e.b, "ln -s /etc/passwd /mnt/data/abs && ln -s ../../../../../../etc /mnt/data/up && ln -s dir /mnt/data/in")
	if got, err := files.Read(e.ctx, "/in/f"); err != nil || string(got) != "in-dir\n" {
		t.Errorf("through a symlink inside: %q %v", got, err)
	}
	for _, p := range []string{"../runtools.db", "/dir/../../x", "/abs", "/up/passwd", "/up"} {
		if _, err := files.Read(e.ctx, p); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("reading %s: %v, want invalid argument", p, err)
		}
	}
	if _, err := files.List(e.ctx, "/up"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("listing /up: %v, want invalid argument", err)
	}
	entries, err := files.List(e.ctx, "/")
	if err != nil || len(entries) < 5 {
		t.Errorf("list: %d entries, %v", len(entries), err)
	}
}

func (e *volumeEnv) volOtherTeam(t *testing.T) {
	other := teamClient(t, e.s, "volume-other")
	for _, ref := range []string{"data", e.vol.ID} {
		if _, err := other.Volume(e.ctx, ref); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another team gets volume %s: %v", ref, err)
		}
		if _, err := other.VolumeFiles(ref).Read(e.ctx, "/hello"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another team reads volume %s: %v", ref, err)
		}
		req := client.CreateRequest{Volumes: []client.VolumeMount{{Volume: ref, Path: "/mnt/x"}}}
		if sb, err := other.Create(e.ctx, req); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another team mounts volume %s: %v", ref, err)
			if sb != nil {
				_ = other.Destroy(e.ctx, sb.ID)
			}
		}
		if err := other.RemoveVolume(e.ctx, ref); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("another team removes volume %s: %v", ref, err)
		}
	}
}

func (e *volumeEnv) volBadMounts(t *testing.T) {
	for _, p := range []string{"relative", "/", "/proc/x", "/sys", "/dev/shm/x", "/mnt/../etc"} {
		req := client.CreateRequest{Volumes: []client.VolumeMount{{Volume: "data", Path: p}}}
		if _, err := e.c.Create(e.ctx, req); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("mount at %q: %v, want invalid argument", p, err)
		}
	}
	if _, err := e.c.Create(e.ctx, client.CreateRequest{Volumes: []client.VolumeMount{{Volume: "nope", Path: "/mnt/x"}}}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("mounting a volume that does not exist: %v", err)
	}
}

func (e *volumeEnv) volOpenFileRemovedWhilePaused(t *testing.T) {
	p := create(t, e.s, mountData(false))
	vrun(t, p, "(exec 3>>/mnt/data/open.log; while true; do sleep 1; done) >/dev/null 2>&1 & true")
	time.Sleep(500 * time.Millisecond)
	if err := p.Pause(e.ctx); err != nil {
		t.Fatal(err)
	}
	vrun(t, e.b, "rm /mnt/data/open.log")
	// gVisor opens the sandbox's open files again by path: this one
	// is gone. The error says what to do, and doing it works.
	switch err := p.Resume(e.ctx); {
	case err == nil:
		t.Log("resumed though an open file was removed (a gVisor that allows it)")
	case !strings.Contains(err.Error(), "stop and start it"):
		t.Errorf("the failed resume does not say what to do: %v", err)
	}
	if err := p.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Boot(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, p, "cat /mnt/data/hello"); got != "while-paused" {
		t.Errorf("after stop and start: %q", got)
	}
	if err := p.Destroy(e.ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *volumeEnv) volInUseCannotBeRemoved(t *testing.T) {
	err := e.c.RemoveVolume(e.ctx, "data")
	if !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), e.b.ID) {
		t.Errorf("removing a volume in use: %v", err)
	}
}

func (e *volumeEnv) volKill9AndRestart(t *testing.T) {
	e.s.kill()
	e.s.start()
	if got, err := e.c.VolumeFiles("data").Read(e.ctx, "/api/put.txt"); err != nil || string(got) != "from-api" {
		t.Errorf("after restart the API reads %q, %v", got, err)
	}
	if got := vrun(t, e.b, "cat /mnt/data/shared"); got != "from-a\nfrom-b" {
		t.Errorf("a running sandbox reads %q after the restart", got)
	}
	if err := e.b.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Boot(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, e.b, "cat /mnt/data/api/put.txt"); got != "from-api" {
		t.Errorf("a restarted sandbox reads %q", got)
	}
	if n := loopDevices(t, e.s, e.vol.ID); n != 1 {
		t.Errorf("%d loop devices back the volume after a restart, want 1", n)
	}
}

// volHostReboot: the server and every sandbox process killed and every
// mount gone, as after a reboot; the next start mounts the volume again,
// and a paused sandbox resumes with it, a crashed one starts with it.
func (e *volumeEnv) volHostReboot(t *testing.T) {
	if err := e.a.Pause(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.s.kill()
	killProcsWithArg(t, "--root="+filepath.Join(e.s.dataDir, "runsc"))
	for _, d := range []string{"volumes", "sandboxes"} {
		if err := hostfs.UnmountUnder(filepath.Join(e.s.dataDir, d)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for loopDevices(t, e.s, e.vol.ID) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // the last holder of the mount is going
	}
	e.s.start()
	if err := e.a.Resume(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, e.a, "cat /mnt/data/api/put.txt"); got != "from-api" {
		t.Errorf("a sandbox paused at the reboot reads %q", got)
	}
	if err := e.b.Boot(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := vrun(t, e.b, "cat /mnt/data/shared"); got != "from-a\nfrom-b" {
		t.Errorf("a sandbox that ran at the reboot reads %q", got)
	}
	if n := loopDevices(t, e.s, e.vol.ID); n != 1 {
		t.Errorf("%d loop devices back the volume after the reboot, want 1", n)
	}
}

// killProcsWithArg SIGKILLs, one by one by PID, the processes that have
// arg among their arguments (a test server's runsc processes).
func killProcsWithArg(t *testing.T, arg string) {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || !slices.Contains(strings.Split(string(b), "\x00"), arg) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	time.Sleep(500 * time.Millisecond)
}

func (e *volumeEnv) volRemove(t *testing.T) {
	list, err := e.c.List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sb := range list {
		if err := e.c.Destroy(e.ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.c.RemoveVolume(e.ctx, "data"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Volume(e.ctx, "data"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("after rm: %v", err)
	}
	if n := loopDevices(t, e.s, e.vol.ID); n != 0 {
		t.Errorf("%d loop devices left after rm", n)
	}
}

// loopDevices counts the loop devices backed by the volume's image.
func loopDevices(t *testing.T, s *server, id string) int {
	t.Helper()
	img := filepath.Join(s.dataDir, "volumes", id, "volume.img")
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	n := 0
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), img) {
			n++
		}
	}
	return n
}
