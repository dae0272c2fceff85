package integration

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestVolumes: a team's volume keeps its files across sandboxes, is shared
// by those that mount it, holds no more than its size, can be mounted
// read-only, survives pause and resume, is not rolled back, is shared by a
// fork, is read and written through the API without a sandbox (no path
// leading out), is invisible to another team, cannot be removed while in
// use, and outlives a kill -9 of the server with its data and one mount.
func TestVolumes(t *testing.T) {
	s := startServer(t)
	c := s.client()
	ctx := ctxT(t, 10*time.Minute)
	out, stderr, code := s.cli(t, "", "volume", "create", "data", "--size", "64M", "-o", "json")
	if code != 0 {
		t.Fatalf("volume create: %s", stderr)
	}
	var vol client.Volume
	if err := json.Unmarshal([]byte(out), &vol); err != nil || vol.Name != "data" || vol.SizeBytes < 60<<20 || vol.SizeBytes > 66<<20 {
		t.Fatalf("created volume: %s %v", out, err)
	}
	mount := func(ro bool) client.CreateRequest {
		return client.CreateRequest{Volumes: []client.VolumeMount{{Volume: "data", Path: "/mnt/data", ReadOnly: ro}}}
	}
	run := func(sb *client.Sandbox, script string) string {
		t.Helper()
		res := sh(t, sb, script)
		if res.ExitCode != 0 {
			t.Fatalf("%s: %q exited %d: %s", sb.ID, script, res.ExitCode, res.Stderr)
		}
		return strings.TrimSpace(string(res.Stdout))
	}

	first := create(t, s, mount(false))
	run(first, "echo from-first > /mnt/data/hello && mkdir -p /mnt/data/dir && echo in-dir > /mnt/data/dir/f")
	if err := first.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := create(t, s, mount(false)), create(t, s, mount(false))
	t.Run("persists after destroy", func(t *testing.T) {
		if got := run(a, "cat /mnt/data/hello"); got != "from-first" {
			t.Errorf("a new sandbox reads %q", got)
		}
	})
	t.Run("shared", func(t *testing.T) {
		run(a, "echo from-a > /mnt/data/shared")
		if got := run(b, "cat /mnt/data/shared"); got != "from-a" {
			t.Errorf("b reads %q", got)
		}
		run(b, "echo from-b >> /mnt/data/shared")
		if got := run(a, "cat /mnt/data/shared"); got != "from-a\nfrom-b" {
			t.Errorf("a reads %q after b appended", got)
		}
		v, err := c.Volume(ctx, "data")
		if err != nil || len(v.UsedBy) != 2 {
			t.Errorf("used by %v (%v), want %s and %s", v.UsedBy, err, a.ID, b.ID)
		}
	})
	t.Run("size is enforced", func(t *testing.T) {
		res := sh(t, a, "dd if=/dev/zero of=/mnt/data/big bs=1M count=100 2>&1; echo status=$?")
		if out := string(res.Stdout); !strings.Contains(out, "No space left on device") || strings.Contains(out, "status=0") {
			t.Errorf("writing 100 MB into 64 MB: %s", out)
		}
		run(a, "rm /mnt/data/big")
	})
	t.Run("read-only", func(t *testing.T) {
		ro := create(t, s, mount(true))
		res := sh(t, ro, "echo x > /mnt/data/nope")
		if res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "Read-only file system") {
			t.Errorf("a write to a read-only mount: exit %d, %s", res.ExitCode, res.Stderr)
		}
		if got := run(ro, "cat /mnt/data/hello"); got != "from-first" {
			t.Errorf("read-only mount reads %q", got)
		}
	})
	t.Run("pause and resume", func(t *testing.T) {
		if err := a.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		run(b, "echo while-paused > /mnt/data/hello && echo new > /mnt/data/while-paused")
		if err := a.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		if got := run(a, "cat /mnt/data/hello /mnt/data/while-paused"); got != "while-paused\nnew" {
			t.Errorf("after resume a reads %q", got)
		}
	})
	t.Run("rollback does not roll it back", func(t *testing.T) {
		if _, err := c.TakeSnapshot(ctx, a.ID, "before"); err != nil {
			t.Fatal(err)
		}
		run(a, "echo after > /mnt/data/after-snapshot && echo after > /root/after-snapshot")
		if _, err := c.Rollback(ctx, a.ID, "before"); err != nil {
			t.Fatal(err)
		}
		if got := run(a, "cat /mnt/data/after-snapshot; test -e /root/after-snapshot && echo rootfs-kept || echo rootfs-rolled-back"); got != "after\nrootfs-rolled-back" {
			t.Errorf("after rollback: %q", got)
		}
	})
	t.Run("fork shares it", func(t *testing.T) {
		fork, err := c.Fork(ctx, a.ID, client.ForkRequest{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Destroy(ctx, fork.ID) })
		if len(fork.Volumes) != 1 || fork.Volumes[0].Volume != "data" || fork.Volumes[0].Path != "/mnt/data" {
			t.Errorf("the fork's volumes: %+v", fork.Volumes)
		}
		run(fork, "echo from-fork > /mnt/data/fork")
		if got := run(b, "cat /mnt/data/fork"); got != "from-fork" {
			t.Errorf("b reads %q of the fork's write", got)
		}
	})
	t.Run("files API", func(t *testing.T) {
		files := c.VolumeFiles("data")
		if got, err := files.Read(ctx, "/dir/f"); err != nil || string(got) != "in-dir\n" {
			t.Errorf("reading what a sandbox wrote: %q %v", got, err)
		}
		if _, err := files.Write(ctx, "/api/put.txt", strings.NewReader("from-api"), client.WriteOptions{MkDirs: true}); err != nil {
			t.Fatal(err)
		}
		if got := run(b, "cat /mnt/data/api/put.txt"); got != "from-api" {
			t.Errorf("a sandbox reads %q of the API's write", got)
		}
		run(b, "ln -s /etc/passwd /mnt/data/abs && ln -s ../../../../../../etc /mnt/data/up && ln -s dir /mnt/data/in")
		if got, err := files.Read(ctx, "/in/f"); err != nil || string(got) != "in-dir\n" {
			t.Errorf("through a symlink inside: %q %v", got, err)
		}
		for _, p := range []string{"../runtools.db", "/dir/../../x", "/abs", "/up/passwd", "/up"} {
			if _, err := files.Read(ctx, p); !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("reading %s: %v, want invalid argument", p, err)
			}
		}
		if _, err := files.List(ctx, "/up"); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("listing /up: %v, want invalid argument", err)
		}
		entries, err := files.List(ctx, "/")
		if err != nil || len(entries) < 5 {
			t.Errorf("list: %d entries, %v", len(entries), err)
		}
	})
	t.Run("other team", func(t *testing.T) {
		other := teamClient(t, s, "volume-other")
		for _, ref := range []string{"data", vol.ID} {
			if _, err := other.Volume(ctx, ref); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("another team gets volume %s: %v", ref, err)
			}
			if _, err := other.VolumeFiles(ref).Read(ctx, "/hello"); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("another team reads volume %s: %v", ref, err)
			}
			req := client.CreateRequest{Volumes: []client.VolumeMount{{Volume: ref, Path: "/mnt/x"}}}
			if sb, err := other.Create(ctx, req); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("another team mounts volume %s: %v", ref, err)
				if sb != nil {
					_ = other.Destroy(ctx, sb.ID)
				}
			}
			if err := other.RemoveVolume(ctx, ref); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("another team removes volume %s: %v", ref, err)
			}
		}
	})
	t.Run("bad mounts", func(t *testing.T) {
		for _, p := range []string{"relative", "/", "/proc/x", "/sys", "/dev/shm/x", "/mnt/../etc"} {
			req := client.CreateRequest{Volumes: []client.VolumeMount{{Volume: "data", Path: p}}}
			if _, err := c.Create(ctx, req); !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("mount at %q: %v, want invalid argument", p, err)
			}
		}
		if _, err := c.Create(ctx, client.CreateRequest{Volumes: []client.VolumeMount{{Volume: "nope", Path: "/mnt/x"}}}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("mounting a volume that does not exist: %v", err)
		}
	})
	t.Run("open file removed while paused", func(t *testing.T) {
		p := create(t, s, mount(false))
		run(p, "(exec 3>>/mnt/data/open.log; while true; do sleep 1; done) >/dev/null 2>&1 & true")
		time.Sleep(500 * time.Millisecond)
		if err := p.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		run(b, "rm /mnt/data/open.log")
		// gVisor opens the sandbox's open files again by path: this one
		// is gone. The error says what to do, and doing it works.
		switch err := p.Resume(ctx); {
		case err == nil:
			t.Log("resumed though an open file was removed (a gVisor that allows it)")
		case !strings.Contains(err.Error(), "stop and start it"):
			t.Errorf("the failed resume does not say what to do: %v", err)
		}
		if err := p.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Boot(ctx); err != nil {
			t.Fatal(err)
		}
		if got := run(p, "cat /mnt/data/hello"); got != "while-paused" {
			t.Errorf("after stop and start: %q", got)
		}
		if err := p.Destroy(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("in use cannot be removed", func(t *testing.T) {
		err := c.RemoveVolume(ctx, "data")
		if !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), b.ID) {
			t.Errorf("removing a volume in use: %v", err)
		}
	})
	t.Run("kill -9 and restart", func(t *testing.T) {
		s.kill()
		s.start()
		if got, err := c.VolumeFiles("data").Read(ctx, "/api/put.txt"); err != nil || string(got) != "from-api" {
			t.Errorf("after restart the API reads %q, %v", got, err)
		}
		if got := run(b, "cat /mnt/data/shared"); got != "from-a\nfrom-b" {
			t.Errorf("a running sandbox reads %q after the restart", got)
		}
		if err := b.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Boot(ctx); err != nil {
			t.Fatal(err)
		}
		if got := run(b, "cat /mnt/data/api/put.txt"); got != "from-api" {
			t.Errorf("a restarted sandbox reads %q", got)
		}
		if n := loopDevices(t, s, vol.ID); n != 1 {
			t.Errorf("%d loop devices back the volume after a restart, want 1", n)
		}
	})
	t.Run("remove", func(t *testing.T) {
		list, err := c.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sb := range list {
			if err := c.Destroy(ctx, sb.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.RemoveVolume(ctx, "data"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Volume(ctx, "data"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("after rm: %v", err)
		}
		if n := loopDevices(t, s, vol.ID); n != 0 {
			t.Errorf("%d loop devices left after rm", n)
		}
	})
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
