// Package density is the density section, on runtools only: how many idle
// sandboxes run at once on this machine and what each takes, then what
// pausing them frees and how many paused ones its disk keeps.
package density

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/hostfs"
)

// Config is what the section is told.
type Config struct {
	Max      int // most sandboxes at once; 0 leaves the section out
	Batch    int // sandboxes created, paused or destroyed at a time
	FloorPct int // stop creating when MemAvailable falls below this % of MemTotal
	Template string
	Subnet   string // the runtools server's, for the method
}

// Section is the density section.
type Section struct {
	Config             Config
	Cores              int           // of the machine
	Others             int           // sandboxes of other sections running when it started
	Reached            int           // sandboxes running at once
	Stop               string        // why it stopped creating
	Answered           int           // of them, how many ran `true` once all were up
	Create             stats.Samples // each `client.Create`
	CreateTook         time.Duration
	MemTotal           int64
	AvailStart         int64       // MemAvailable before the first create
	AvailFull          int64       // with all of them running
	CgroupMem          stats.Sizes // per sandbox, from its memory cgroup as the daemon counts it
	DaemonRSS          [2]int64    // before, and with all running
	CPUBefore, CPUFull float64     // host CPU busy, % of all cores, before and with all running
	CPUSandboxes       float64     // CPU their cgroups used with all running and idle, % of one core
	CPUDaemon          float64     // CPU the runtools server used meanwhile, % of one core
	Paused             int
	PauseFailed        string // the first pause that failed, if one did
	Pause              stats.Samples
	PauseTook          time.Duration
	AvailPaused        int64       // MemAvailable with all of them paused
	PausedDisk         stats.Sizes // per sandbox, its directory while paused
	PauseImage         stats.Sizes // of which its pause image
	DiskFree           int64       // free space of the data directory's filesystem, all paused
	Resumed            int         // of those resumed again, how many answered `true`
	ResumeTried        int
	DestroyTook        time.Duration
	AvailEnd           int64 // MemAvailable after they were destroyed
	Leaks              []string
	Skipped            string // why it did not run, if it did not
	Took               time.Duration
}

var _ section.Section = (*Section)(nil)

// Fixed parts of the measurement.
const (
	rest             = 5 * time.Second // all running, before the CPU and memory are read
	resumes          = 3               // paused sandboxes resumed again as a check
	destroyAtOnce    = 16
	cgroupMemoryRoot = "/sys/fs/cgroup/memory/runtools" // v1; the daemon's cgroup parent
	cgroupV2Root     = "/sys/fs/cgroup/runtools"
	bridgePorts      = 1024 // the most ports a Linux bridge takes (BR_MAX_PORTS)
)

// Name is "density".
func (s *Section) Name() string { return "density" }

// Run measures, unless -density-max=0 left the section out; a failure is
// reported as not measured. What it leaves behind is reported with the
// bench's leaks.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	s.Cores = env.Machine.Cores
	return section.Optional(ctx, "density", s.Config.Max == 0, "-density-max=0", &s.Skipped, func() error {
		err := s.measure(ctx, env)
		env.Leak(s.Leaks...)
		return err
	})
}

// measure creates idle sandboxes, Batch at a time, until the host's
// MemAvailable falls below the floor, a create fails or Max are running;
// measures them; pauses them all and measures again; then destroys them
// all at once and checks that nothing of them is left.
func (s *Section) measure(ctx context.Context, env *section.Env) (err error) {
	t := time.Now()
	srv := env.Server
	f := &fleet{srv: srv}
	env.Undo.Push("remove the density sandboxes", f.destroyAll)
	defer func() {
		if err != nil && ctx.Err() == nil { // else undo removes them
			err = errors.Join(err, f.destroyAll(ctx))
		}
	}()
	if err := s.before(ctx, srv); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "density: creating idle %s sandboxes, %d at a time, up to %d\n", s.Config.Template, s.Config.Batch, s.Config.Max)
	if err := f.fill(ctx, s); err != nil {
		return err
	}
	sbs := f.list()
	if s.Reached = len(sbs); s.Reached == 0 {
		return fmt.Errorf("no sandbox could be created: %s", s.Stop)
	}
	if err := s.running(ctx, srv, sbs); err != nil {
		return err
	}
	if err := s.paused(ctx, srv, sbs); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "density: destroying %d sandboxes, %d at a time\n", len(sbs), destroyAtOnce)
	td := time.Now()
	if err := f.destroyAll(ctx); err != nil {
		return fmt.Errorf("destroying: %w", err)
	}
	s.DestroyTook = time.Since(td)
	if err := measure.Sleep(ctx, rest); err != nil {
		return err
	}
	s.AvailEnd, _ = host.Meminfo("MemAvailable")
	s.Leaks = leaks(ctx, srv, f.ids)
	s.Took = time.Since(t)
	return nil
}

// before reads the machine before the first create: the sandboxes already
// running, memory, CPU and the server's RSS.
func (s *Section) before(ctx context.Context, srv *server.Server) error {
	list, err := srv.Client.List(ctx)
	if err != nil {
		return fmt.Errorf("listing sandboxes: %w", err)
	}
	for _, sb := range list {
		if sb.State == client.StateRunning {
			s.Others++
		}
	}
	if s.MemTotal, err = host.Meminfo("MemTotal"); err != nil {
		return err
	}
	if s.CPUBefore, err = hostCPUBusy(ctx, rest); err != nil {
		return err
	}
	s.DaemonRSS[0], _ = host.ProcessRSS(srv.Pid())
	s.AvailStart, err = host.Meminfo("MemAvailable")
	return err
}

// running checks that every sandbox runs `true`, then reads the CPU they
// and the server use over the rest, and their memory.
func (s *Section) running(ctx context.Context, srv *server.Server, sbs []*client.Sandbox) (err error) {
	var answered atomic.Int64
	forEach(ctx, len(sbs), s.Config.Batch, func(ctx context.Context, i int) {
		if srv.ExecTrue(ctx, sbs[i].ID) == nil {
			answered.Add(1)
		}
	})
	s.Answered = int(answered.Load())
	cg0, d0 := sandboxesCPU(sbs), daemonCPU(srv)
	if s.CPUFull, err = hostCPUBusy(ctx, rest); err != nil {
		return err
	}
	s.CPUSandboxes = 100 * (sandboxesCPU(sbs) - cg0).Seconds() / rest.Seconds()
	s.CPUDaemon = 100 * (daemonCPU(srv) - d0).Seconds() / rest.Seconds()
	if s.AvailFull, err = host.Meminfo("MemAvailable"); err != nil {
		return err
	}
	s.DaemonRSS[1], _ = host.ProcessRSS(srv.Pid())
	for _, sb := range sbs {
		if n, err := cgroupMemory(sb.ID); err == nil {
			s.CgroupMem = append(s.CgroupMem, n)
		}
	}
	return nil
}

// paused pauses every sandbox, then reads the memory and the disk they
// take paused, and resumes a few as a check.
func (s *Section) paused(ctx context.Context, srv *server.Server, sbs []*client.Sandbox) error {
	fmt.Fprintf(os.Stderr, "density: pausing %d sandboxes\n", len(sbs))
	paused, err := s.pauseAll(ctx, srv, sbs)
	if err != nil {
		return err
	}
	if err := measure.Sleep(ctx, rest); err != nil {
		return err
	}
	if s.AvailPaused, err = host.Meminfo("MemAvailable"); err != nil {
		return err
	}
	for _, sb := range paused {
		dir := srv.SandboxDir(sb.ID)
		total, err1 := hostfs.DiskUsage(dir)
		img, err2 := hostfs.DiskUsage(filepath.Join(dir, "pause"))
		if err1 == nil && err2 == nil && img > 0 {
			s.PausedDisk = append(s.PausedDisk, total)
			s.PauseImage = append(s.PauseImage, img)
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(srv.DataDir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", srv.DataDir, err)
	}
	s.DiskFree = int64(st.Bavail) * st.Bsize
	// A few of them come back, as a check that what was kept works.
	for _, sb := range paused[:min(resumes, len(paused))] {
		s.ResumeTried++
		if _, err := srv.Client.Resume(ctx, sb.ID); err == nil && srv.ExecTrue(ctx, sb.ID) == nil {
			s.Resumed++
		}
	}
	return nil
}
