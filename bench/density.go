package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runtools/runtools/client"
)

// densitySection is what the density measurement found, on runtools
// only: how many idle sandboxes run at once on this machine and what each
// takes, then how many paused ones its disk keeps.
type densitySection struct {
	max, batch, floorPct int
	others               int    // sandboxes of other sections running when it started
	reached              int    // sandboxes running at once
	stop                 string // why it stopped creating
	answered             int    // of them, how many ran `true` once all were up
	create               samples
	createTook           time.Duration
	memTotal             int64
	availStart           int64   // MemAvailable before the first create
	availFull            int64   // with all of them running
	cgroupMem            []int64 // per sandbox, from its memory cgroup as the daemon counts it
	daemonRSS            [2]int64
	cpuBefore, cpuFull   float64 // host CPU busy, % of all cores, before and with all running
	cpuSandboxes         float64 // CPU their cgroups used with all running and idle, % of one core
	cpuDaemon            float64 // CPU the runtools server used meanwhile, % of one core
	paused               int
	pauseFailed          string // the first pause that failed, if one did
	pause                samples
	pauseTook            time.Duration
	availPaused          int64   // MemAvailable with all of them paused
	pausedDisk           []int64 // per sandbox, its directory while paused
	pauseImage           []int64 // of which its pause image
	diskFree             int64   // free space of the data directory's filesystem, all paused
	resumed, resumeTried int     // a few resumed again, each answering `true`
	destroyTook          time.Duration
	availEnd             int64 // MemAvailable after they were destroyed
	leaks                []string
	skipped              string // why it did not run, if it did not
	took                 time.Duration
}

// Fixed parts of the density measurement.
const (
	densityRest      = 5 * time.Second // all running, before the CPU and memory are read
	densityResumes   = 3               // paused sandboxes resumed again as a check
	destroyAtOnce    = 16
	cgroupMemoryRoot = "/sys/fs/cgroup/memory/runtools" // v1; the daemon's cgroup parent
	cgroupV2Root     = "/sys/fs/cgroup/runtools"
)

// measureDensitySection measures density into rep. If it fails, it is
// reported as not measured, with the reason, so that the rest of the
// report survives; an interruption stops the bench. What it leaves behind
// is reported with the bench's leaks.
func measureDensitySection(ctx context.Context, undo *undoStack, rep *report, srv *server) error {
	var err error
	rep.density, err = measureDensity(ctx, undo, srv, rep.cfg)
	rep.leaks = append(rep.leaks, rep.density.leaks...)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("density: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\nbench: the density section failed: %v\n", err)
		rep.density.skipped = "failed: " + err.Error()
	}
	return nil
}

// fleet is the density section's sandboxes.
type fleet struct {
	srv *server
	mu  sync.Mutex
	sbs []*client.Sandbox
	ids []string // every one ever made, for the leak checks
}

func (f *fleet) add(sb *client.Sandbox) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sbs = append(f.sbs, sb)
	f.ids = append(f.ids, sb.ID)
}

func (f *fleet) list() []*client.Sandbox {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sbs)
}

// destroyAll destroys every sandbox of the fleet, destroyAtOnce at a
// time, and forgets those it destroyed; safe to call again.
func (f *fleet) destroyAll(ctx context.Context) error {
	sbs := f.list()
	errs := make([]error, len(sbs))
	forEach(ctx, len(sbs), destroyAtOnce, func(ctx context.Context, i int) {
		errs[i] = f.srv.destroy(ctx, sbs[i])
	})
	f.mu.Lock()
	f.sbs = slices.DeleteFunc(f.sbs, func(sb *client.Sandbox) bool {
		i := slices.Index(sbs, sb)
		return i >= 0 && errs[i] == nil
	})
	f.mu.Unlock()
	return errors.Join(errs...)
}

// forEach calls fn for 0..n-1, at most k at a time, and waits for all.
func forEach(ctx context.Context, n, k int, fn func(context.Context, int)) {
	sem := make(chan struct{}, k)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case sem <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, i)
		})
	}
	wg.Wait()
}

// measureDensity creates idle sandboxes, batch at a time, until the host's
// MemAvailable falls below the floor, a create fails or max are running;
// measures them; pauses them all and measures again; then destroys them
// all at once and checks that nothing of them is left.
func measureDensity(ctx context.Context, undo *undoStack, srv *server, cfg config) (sec densitySection, err error) {
	sec = densitySection{max: cfg.densityMax, batch: cfg.densityBatch, floorPct: cfg.densityFloor}
	if cfg.densityMax == 0 {
		sec.skipped = "left out with -density-max=0"
		return sec, nil
	}
	t := time.Now()
	f := &fleet{srv: srv}
	undo.push("remove the density sandboxes", f.destroyAll)
	defer func() {
		if err != nil && ctx.Err() == nil { // else undo removes them
			err = errors.Join(err, f.destroyAll(ctx))
		}
	}()
	list, err := srv.c.List(ctx)
	if err != nil {
		return sec, fmt.Errorf("listing sandboxes: %w", err)
	}
	for _, sb := range list {
		if sb.State == client.StateRunning {
			sec.others++
		}
	}
	if sec.memTotal, err = meminfo("MemTotal"); err != nil {
		return sec, err
	}
	if sec.cpuBefore, err = hostCPUBusy(ctx, densityRest); err != nil {
		return sec, err
	}
	sec.daemonRSS[0], _ = processRSS(srv.cmd.Process.Pid)
	if sec.availStart, err = meminfo("MemAvailable"); err != nil {
		return sec, err
	}

	fmt.Fprintf(os.Stderr, "density: creating idle %s sandboxes, %d at a time, up to %d\n", cfg.template, cfg.densityBatch, cfg.densityMax)
	if err := f.fill(ctx, &sec, cfg); err != nil {
		return sec, err
	}
	sbs := f.list()
	sec.reached = len(sbs)
	if sec.reached == 0 {
		return sec, fmt.Errorf("no sandbox could be created: %s", sec.stop)
	}
	var answered atomic.Int64
	forEach(ctx, len(sbs), cfg.densityBatch, func(ctx context.Context, i int) {
		if srv.execTrue(ctx, sbs[i].ID) == nil {
			answered.Add(1)
		}
	})
	sec.answered = int(answered.Load())
	cg0, d0 := sandboxesCPU(sbs), daemonCPU(srv)
	if sec.cpuFull, err = hostCPUBusy(ctx, densityRest); err != nil {
		return sec, err
	}
	sec.cpuSandboxes = 100 * (sandboxesCPU(sbs) - cg0).Seconds() / densityRest.Seconds()
	sec.cpuDaemon = 100 * (daemonCPU(srv) - d0).Seconds() / densityRest.Seconds()
	if sec.availFull, err = meminfo("MemAvailable"); err != nil {
		return sec, err
	}
	sec.daemonRSS[1], _ = processRSS(srv.cmd.Process.Pid)
	for _, sb := range sbs {
		if n, err := cgroupMemory(sb.ID); err == nil {
			sec.cgroupMem = append(sec.cgroupMem, n)
		}
	}

	fmt.Fprintf(os.Stderr, "density: pausing %d sandboxes\n", len(sbs))
	paused, err := pauseFleet(ctx, &sec, srv, sbs, cfg.densityBatch)
	if err != nil {
		return sec, err
	}
	if err := sleep(ctx, densityRest); err != nil {
		return sec, err
	}
	if sec.availPaused, err = meminfo("MemAvailable"); err != nil {
		return sec, err
	}
	for _, sb := range paused {
		dir := filepath.Join(srv.dataDir, "sandboxes", sb.ID)
		total, err1 := diskUsage(dir)
		img, err2 := diskUsage(filepath.Join(dir, "pause"))
		if err1 == nil && err2 == nil && img > 0 {
			sec.pausedDisk = append(sec.pausedDisk, total)
			sec.pauseImage = append(sec.pauseImage, img)
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(srv.dataDir, &st); err != nil {
		return sec, fmt.Errorf("statfs %s: %w", srv.dataDir, err)
	}
	sec.diskFree = int64(st.Bavail) * st.Bsize

	// A few of them come back, as a check that what was kept works.
	for _, sb := range paused[:min(densityResumes, len(paused))] {
		sec.resumeTried++
		if _, err := srv.c.Resume(ctx, sb.ID); err == nil && srv.execTrue(ctx, sb.ID) == nil {
			sec.resumed++
		}
	}

	fmt.Fprintf(os.Stderr, "density: destroying %d sandboxes, %d at a time\n", len(sbs), destroyAtOnce)
	td := time.Now()
	if err := f.destroyAll(ctx); err != nil {
		return sec, fmt.Errorf("destroying: %w", err)
	}
	sec.destroyTook = time.Since(td)
	if err := sleep(ctx, densityRest); err != nil {
		return sec, err
	}
	sec.availEnd, _ = meminfo("MemAvailable")
	sec.leaks = densityLeaks(ctx, srv, f.ids)
	sec.took = time.Since(t)
	return sec, nil
}

// fill creates sandboxes, cfg.densityBatch in flight, until a stop
// condition, and says which in sec.stop.
func (f *fleet) fill(ctx context.Context, sec *densitySection, cfg config) error {
	floor := sec.memTotal * int64(cfg.densityFloor) / 100
	zero := 0
	var (
		mu       sync.Mutex
		failed   error
		launched int
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, cfg.densityBatch)
	t := time.Now()
launch:
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case sem <- struct{}{}:
		}
		mu.Lock()
		ferr := failed
		mu.Unlock()
		avail, err := meminfo("MemAvailable")
		if err != nil {
			<-sem
			wg.Wait()
			return err
		}
		if ferr != nil || launched == cfg.densityMax || avail < floor {
			switch {
			case ferr != nil:
				sec.stop = "a create failed: " + ferr.Error()
			case launched == cfg.densityMax:
				sec.stop = fmt.Sprintf("the cap, -density-max %d", cfg.densityMax)
			default:
				sec.stop = fmt.Sprintf("MemAvailable fell to %s, below %d%% of MemTotal (%s)", gib(avail), cfg.densityFloor, gib(floor))
			}
			<-sem
			break launch
		}
		launched++
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			sb, err := f.srv.c.Create(ctx, client.CreateRequest{Template: cfg.template, IdleTimeout: &zero})
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failed == nil {
					failed = err
				}
				return
			}
			f.add(sb)
			sec.create = append(sec.create, d)
			if n := len(sec.create); n%10 == 0 {
				fmt.Fprintf(os.Stderr, "\rdensity: %d running   ", n)
			}
		})
	}
	wg.Wait()
	fmt.Fprintln(os.Stderr)
	sec.createTook = time.Since(t)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// A create that failed after the stop condition was met still counts
	// as why it stopped, if nothing else did.
	if failed != nil && !strings.HasPrefix(sec.stop, "a create failed") {
		sec.stop += "; a create failed meanwhile: " + failed.Error()
	}
	return nil
}

// pauseFleet pauses every sandbox, batch at a time, and returns those
// paused.
func pauseFleet(ctx context.Context, sec *densitySection, srv *server, sbs []*client.Sandbox, batch int) ([]*client.Sandbox, error) {
	var mu sync.Mutex
	var paused []*client.Sandbox
	t := time.Now()
	forEach(ctx, len(sbs), batch, func(ctx context.Context, i int) {
		t0 := time.Now()
		_, err := srv.c.Pause(ctx, sbs[i].ID)
		d := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if sec.pauseFailed == "" {
				sec.pauseFailed = err.Error()
			}
			return
		}
		paused = append(paused, sbs[i])
		sec.pause = append(sec.pause, d)
	})
	sec.pauseTook = time.Since(t)
	sec.paused = len(paused)
	return paused, ctx.Err()
}

// densityLeaks looks for anything of the given sandboxes still on the
// host after their destroy: records not stopped, runsc containers and
// processes, network namespaces, cgroups and directories.
func densityLeaks(ctx context.Context, srv *server, ids []string) []string {
	var leaks []string
	if list, err := srv.c.List(ctx); err == nil {
		for _, sb := range list {
			if slices.Contains(ids, sb.ID) {
				leaks = append(leaks, fmt.Sprintf("density sandbox %s in state %s", sb.ID, sb.State))
			}
		}
	} else {
		leaks = append(leaks, "density: listing sandboxes: "+err.Error())
	}
	runsc, _ := command(ctx, srv.runsc, "--root="+filepath.Join(srv.dataDir, "runsc"), "list", "--quiet")
	containers := strings.Fields(runsc)
	procs := processCmdlines()
	for _, id := range ids {
		var left []string
		if slices.Contains(containers, id) {
			left = append(left, "runsc container")
		}
		if exists(filepath.Join("/run/netns", srv.bridge+"-"+id)) {
			left = append(left, "network namespace")
		}
		if dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "runtools", id)); len(dirs) > 0 || exists(filepath.Join(cgroupV2Root, id)) {
			left = append(left, "cgroup")
		}
		if exists(filepath.Join(srv.dataDir, "sandboxes", id)) {
			left = append(left, "directory")
		}
		for _, cmd := range procs {
			if strings.Contains(cmd, id) {
				left = append(left, "process "+oneLine(cmd))
				break
			}
		}
		if len(left) > 0 {
			leaks = append(leaks, fmt.Sprintf("density sandbox %s: %s", id, strings.Join(left, ", ")))
		}
	}
	return leaks
}

// processCmdlines returns the command line of every process.
func processCmdlines() []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && len(b) > 0 {
			out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// meminfo returns a /proc/meminfo field in bytes.
func meminfo(key string) (int64, error) {
	var kb int64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", key), "%d kB", &kb); err != nil {
		return 0, fmt.Errorf("reading %s from /proc/meminfo: %w", key, err)
	}
	return kb << 10, nil
}

// processRSS returns the resident memory of process pid, in bytes.
func processRSS(pid int) (int64, error) {
	var kb int64
	_, err := fmt.Sscanf(procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS"), "%d kB", &kb)
	return kb << 10, err
}

// hostCPUBusy returns how busy the host's CPUs were over d, in % of all
// cores, from /proc/stat.
func hostCPUBusy(ctx context.Context, d time.Duration) (float64, error) {
	busy0, total0, err := cpuTicks()
	if err != nil {
		return 0, err
	}
	if err := sleep(ctx, d); err != nil {
		return 0, err
	}
	busy1, total1, err := cpuTicks()
	if err != nil {
		return 0, err
	}
	if total1 <= total0 {
		return 0, nil
	}
	return 100 * float64(busy1-busy0) / float64(total1-total0), nil
}

// cpuTicks returns the busy and total ticks of all CPUs from /proc/stat;
// idle and iowait are not busy.
func cpuTicks() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("reading /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	for i, s := range f[1:] {
		var n int64
		if _, err := fmt.Sscan(s, &n); err != nil {
			return 0, 0, fmt.Errorf("unexpected /proc/stat: %q", line)
		}
		if i == 7 || i == 8 { // guest and guest_nice are in user already
			continue
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// sandboxesCPU returns the CPU time the sandboxes' cgroups have used
// (cpuacct v1, else cpu.stat v2); those without one count nothing.
func sandboxesCPU(sbs []*client.Sandbox) time.Duration {
	var total time.Duration
	for _, sb := range sbs {
		if ns, ok := readInt64(filepath.Join("/sys/fs/cgroup/cpuacct/runtools", sb.ID, "cpuacct.usage")); ok {
			total += time.Duration(ns)
		} else {
			total += time.Duration(statField(filepath.Join(cgroupV2Root, sb.ID, "cpu.stat"), "usage_usec")) * time.Microsecond
		}
	}
	return total
}

// daemonCPU returns the CPU time the runtools server has used, 0 if it
// cannot be read.
func daemonCPU(srv *server) time.Duration {
	d, _ := processCPU(srv.cmd.Process.Pid)
	return d
}

// cgroupMemory returns a sandbox's memory use as the daemon counts it
// (internal/runtime/gvisor/usage.go): its memory cgroup's usage without
// the inactive page cache.
func cgroupMemory(id string) (int64, error) {
	v1 := filepath.Join(cgroupMemoryRoot, id)
	if usage, ok := readInt64(filepath.Join(v1, "memory.usage_in_bytes")); ok {
		return max(usage-statField(filepath.Join(v1, "memory.stat"), "total_inactive_file"), 0), nil
	}
	v2 := filepath.Join(cgroupV2Root, id)
	if usage, ok := readInt64(filepath.Join(v2, "memory.current")); ok {
		return max(usage-statField(filepath.Join(v2, "memory.stat"), "inactive_file"), 0), nil
	}
	return 0, fmt.Errorf("no memory cgroup for sandbox %s", id)
}

func readInt64(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var n int64
	_, err = fmt.Sscan(strings.TrimSpace(string(b)), &n)
	return n, err == nil
}

// statField returns the value of "key N" in a cgroup stat file, 0 if it
// is not there.
func statField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}

// diskUsage returns the bytes the files under dir take on disk (their
// blocks, each inode once), as du does.
func diskUsage(dir string) (int64, error) {
	seen := map[uint64]bool{}
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && !seen[st.Ino] {
			seen[st.Ino] = true
			n += st.Blocks * 512
		}
		return nil
	})
	return n, err
}

// gib formats a byte count in GiB with one decimal.
func gib(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }
