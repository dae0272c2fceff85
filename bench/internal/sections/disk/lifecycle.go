package disk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
	"golang.org/x/sys/unix"
)

// The lifecycle operations, as the table names them, in its order.
const (
	PhCreate = "create"
	PhPause  = "pause"
	PhResume = "resume"
	PhStop   = "stop"
	PhBoot   = "boot"
)

// LifePhases are the lifecycle operations in the table's order.
var LifePhases = []string{PhCreate, PhPause, PhResume, PhStop, PhBoot}

// measureLifecycle times, runs times for each kind of disk (the kinds
// alternating, each call after the settle gap): `client.Create` of a new
// sandbox of that disk (destroyed after, untimed); then, on the section's
// sandbox of it, `client.Pause`, `client.Resume`, `client.Stop` until it
// returns with the sandbox stopped, and `client.Boot` until it returns
// with it running (the daemon waits for its agent, as Create does); each
// followed, untimed, by an exec of `true` where it runs, which must
// succeed.
func measureLifecycle(ctx context.Context, srv *server.Server, sandboxes []*system, runs int) (map[string]stats.PhaseSet, error) {
	out := map[string]stats.PhaseSet{}
	for r := range runs {
		for k := range sandboxes {
			sys := sandboxes[(k+r)%len(sandboxes)]
			phases, err := cycle(ctx, srv, sys)
			if err != nil {
				return nil, fmt.Errorf("the lifecycle of the %s-disk sandbox: %w", sys.name, err)
			}
			ps := out[sys.name]
			ps.Add(phases)
			out[sys.name] = ps
		}
		measure.Progress("disk I/O, lifecycle", r, 0, runs)
	}
	return out, nil
}

// cycle times one create of a sandbox of sys's disk, and one pause,
// resume, stop and boot of sys's sandbox.
func cycle(ctx context.Context, srv *server.Server, sys *system) ([]stats.Phase, error) {
	if err := measure.Settle(ctx); err != nil {
		return nil, err
	}
	t := time.Now()
	sb, err := srv.Client.Create(ctx, client.CreateRequest{Disk: sys.name, MemoryMB: memoryMB, IdleTimeout: new(int)})
	if err != nil {
		return nil, fmt.Errorf("creating: %w", err)
	}
	create := time.Since(t)
	if err := srv.Client.Destroy(ctx, sb.ID); err != nil {
		return nil, fmt.Errorf("destroying: %w", err)
	}
	var pause, resume time.Duration
	for _, op := range []struct {
		d    *time.Duration
		call func(context.Context, string) (*client.Sandbox, error)
	}{{&pause, srv.Client.Pause}, {&resume, srv.Client.Resume}} {
		if err := measure.Settle(ctx); err != nil {
			return nil, err
		}
		t := time.Now()
		if _, err := op.call(ctx, sys.sb.ID); err != nil {
			return nil, err
		}
		*op.d = time.Since(t)
	}
	if err := srv.ExecTrue(ctx, sys.sb.ID); err != nil {
		return nil, err
	}
	stop, boot, err := stopBoot(ctx, srv, sys.sb.ID)
	if err != nil {
		return nil, err
	}
	return []stats.Phase{{Name: PhCreate, D: create}, {Name: PhPause, D: pause}, {Name: PhResume, D: resume},
		{Name: PhStop, D: stop}, {Name: PhBoot, D: boot}}, nil
}

// stopBoot times one Stop and one Boot of sandbox id.
func stopBoot(ctx context.Context, srv *server.Server, id string) (stop, boot time.Duration, err error) {
	if err := measure.Settle(ctx); err != nil {
		return 0, 0, err
	}
	t := time.Now()
	sb, err := srv.Client.Stop(ctx, id)
	if err != nil {
		return 0, 0, fmt.Errorf("stopping: %w", err)
	}
	stop = time.Since(t)
	if sb.State != client.StateStopped {
		return 0, 0, fmt.Errorf("Stop returned the sandbox %s", sb.State)
	}
	if err := measure.Settle(ctx); err != nil {
		return 0, 0, err
	}
	t = time.Now()
	if sb, err = srv.Client.Boot(ctx, id); err != nil {
		return 0, 0, fmt.Errorf("booting: %w", err)
	}
	boot = time.Since(t)
	if sb.State != client.StateRunning {
		return 0, 0, fmt.Errorf("Boot returned the sandbox %s", sb.State)
	}
	return stop, boot, srv.ExecTrue(ctx, id)
}

// describe says what the disks are, as the host sees them, and which
// versions of the template's programs ran. What it cannot find out it
// leaves empty.
func describe(ctx context.Context, srv *server.Server, sys *systems) Setup {
	s := Setup{MemoryMB: memoryMB}
	for _, x := range sys.all {
		switch x.name {
		case Host:
			s.HostFS = mountOf(ctx, x.dir)
			s.Reflink = reflinks(x.dir)
		case Durable:
			s.DurableFS = mountOf(ctx, filepath.Join(srv.SandboxDir(x.sb.ID), "disk"))
		}
	}
	if out, err := sys.sandboxes[0].run(ctx, toolsScript, -1); err == nil {
		s.Tools = strings.Join(strings.Fields(strings.ReplaceAll(out, "\n", ", ")), " ")
		s.Tools = strings.TrimSuffix(s.Tools, ",")
	}
	return s
}

// toolsScript prints the versions of the programs the workloads use.
const toolsScript = `echo "node $(node --version)"
echo "npm $(npm --version)"
git --version | sed 's/ version//'
python3 --version
python3 -m pip --version | cut -d' ' -f1,2
`

// mountOf is the filesystem path is on: "TYPE on SOURCE (OPTIONS)".
func mountOf(ctx context.Context, path string) string {
	out, err := host.Command(ctx, "findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "-T", path)
	f := strings.Fields(out)
	if err != nil || len(f) != 3 {
		return ""
	}
	return fmt.Sprintf("%s on %s (%s)", f[0], f[1], f[2])
}

// reflinks says whether the filesystem of dir can reflink a file (share
// its blocks with a copy), trying it.
func reflinks(dir string) string {
	a, b := filepath.Join(dir, "reflink-a"), filepath.Join(dir, "reflink-b")
	defer os.Remove(a)
	defer os.Remove(b)
	if err := os.WriteFile(a, []byte("x"), 0o600); err != nil {
		return ""
	}
	src, err := os.Open(a)
	if err != nil {
		return ""
	}
	defer src.Close()
	dst, err := os.Create(b)
	if err != nil {
		return ""
	}
	defer dst.Close()
	if err := unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())); err != nil {
		return "no (FICLONE: " + err.Error() + ")"
	}
	return "yes"
}
