package main

import (
	"fmt"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/sections/cluster"
	"github.com/runtools/runtools/bench/internal/sections/code"
	"github.com/runtools/runtools/bench/internal/sections/compare"
	"github.com/runtools/runtools/bench/internal/sections/density"
	"github.com/runtools/runtools/bench/internal/sections/desktop"
	"github.com/runtools/runtools/bench/internal/sections/disk"
	"github.com/runtools/runtools/bench/internal/sections/events"
	"github.com/runtools/runtools/bench/internal/sections/pause"
	"github.com/runtools/runtools/bench/internal/sections/proxy"
	"github.com/runtools/runtools/bench/internal/sections/reuse"
	"github.com/runtools/runtools/bench/internal/sections/ssh"
	"github.com/runtools/runtools/bench/internal/sections/templates"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// The made-up numbers the report tests render: every section of a full
// run, and variants that take the other branches of the templates.

func d(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// ss is n samples around base ms, spread by up to 1.3 % a step.
func ss(base float64, n int) stats.Samples {
	s := make(stats.Samples, n)
	for i := range s {
		s[i] = d(base * (1 + 0.013*float64((i*7)%n)))
	}
	return s
}

// phasesOf is n rounds of the phases named in kv (name, base ms, ...).
func phasesOf(n int, kv ...any) stats.PhaseSet {
	var p stats.PhaseSet
	for i := 0; i < n; i++ {
		var ph []stats.Phase
		for j := 0; j < len(kv); j += 2 {
			base := kv[j+1].(float64)
			ph = append(ph, stats.Phase{Name: kv[j].(string), D: d(base * (1 + 0.013*float64((i*7)%n)))})
		}
		p.Add(ph)
	}
	return p
}

// fixture is a made-up run: its config, frame and sections, filled.
type fixture struct {
	cfg     config
	frame   report.Frame
	all     []section.Section // in the order they run
	create  *compare.Create
	exec    *compare.Exec
	pause   *pause.Section
	proxy   *proxy.Section
	ssh     *ssh.Section
	disk    *disk.Section
	desktop *desktop.Section
	tpl     *templates.Section
	code    *code.Section
	events  *events.Section
	density *density.Section
	reuse   *reuse.Section
}

func fullConfig() config {
	c := config{runs: 20, execRuns: 100, template: "base", platform: "auto", bridge: "rtbench0", subnet: "10.250.0.0/16",
		rawBridge: "rtbench1", rawSubnet: "10.251.0.0/24", podman: true, pauseRuns: 20, snapRuns: 10, bigRuns: 5, bigMB: 140,
		proxySeconds: 5, proxyConns: 16, wakeRuns: 5, sshRuns: 20, loginRuns: 10, scpRuns: 3, scpMB: 100, diskRuns: 3,
		desktopRuns: 3, desktopShotRuns: 20, desktopPauseRuns: 3, codeRuns: 100, codeFirstRuns: 3, eventRuns: 20, densityMax: 150, densityBatch: 4, densityFloor: 15,
		clusterCreates: 30, clusterMoveRuns: 5, clusterDrain: 3}
	c.only, _ = parseSections("")
	return c
}

// pick is the section of type T among all.
func pick[T section.Section](all []section.Section) T {
	for _, s := range all {
		if t, ok := s.(T); ok {
			return t
		}
	}
	panic(fmt.Sprintf("no section of type %T", *new(T)))
}

// sections are the fixture's sections that cfg.only picks, in order.
func (f *fixture) sections() []section.Section {
	var out []section.Section
	for _, s := range f.all {
		if f.cfg.only.has(s.Name()) {
			out = append(out, s)
		}
	}
	return out
}

// markdown renders the fixture's report.
func (f *fixture) markdown() (string, error) {
	f.frame.Command, f.frame.Partial, f.frame.Sections = f.cfg.commandLine(), f.cfg.only.partial(), f.cfg.only
	var parts []report.Part
	for _, s := range f.sections() {
		p, err := s.Report()
		if err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	return report.Markdown(f.frame, parts)
}

func createResults() []*measure.Result {
	rt := &measure.Result{Name: measure.Runtools, Samples: ss(526.9, 20), Teardown: ss(227.8, 20), Phases: phasesOf(20,
		"API call to record", 1.5, "record + network setup", 4.6, "runsc run until the agent starts", 427.1,
		"agent start until serving", 12.7, "agent serving until seen ready", 6.5, "record running + reply", 3.7, "first exec", 62.9)}
	rn := &measure.Result{Name: measure.RawNet, Samples: ss(399.6, 20), Teardown: ss(1610.2, 20), Phases: phasesOf(20,
		"netns + veth (3 ip calls)", 20.0, "bundle + runsc run", 311.6, "first exec (runsc exec)", 64.8)}
	rnone := &measure.Result{Name: compare.RawNone, Samples: ss(361.6, 20), Teardown: ss(1548.4, 20), Phases: phasesOf(20,
		"bundle + runsc run", 300.1, "first exec (runsc exec)", 64.4)}
	pm := &measure.Result{Name: measure.Podman, Samples: ss(1042.0, 20), Teardown: ss(579.2, 20), Phases: phasesOf(20,
		"podman run -d", 777.5, "first exec (podman exec)", 272.6)}
	return []*measure.Result{rt, rn, rnone, pm}
}

func execResults() []*measure.Result {
	return []*measure.Result{
		{Name: measure.Runtools, Samples: ss(36.4, 100)}, {Name: compare.Agent, Samples: ss(22.8, 100)},
		{Name: measure.RawNet, Samples: ss(54.0, 100)}, {Name: compare.Spawn, Samples: ss(18.7, 100)},
		{Name: measure.Podman, Samples: ss(250.1, 100)},
	}
}

func pauseCycle(holdMB, runs int, scale float64) pause.Cycle {
	rn := server.RestorePhaseNames("resume")
	rt := &measure.Result{Name: measure.Runtools, Phases: phasesOf(runs,
		server.PhPause, 221.7*scale, server.PauseImagePhases[0], 150.2*scale, server.PauseImagePhases[1], 40.1*scale,
		server.PauseImagePhases[2], 20.3, server.PhPauseTook, 210.0*scale, server.PhResume, 507.2*scale,
		rn.Prepare, 30.5, rn.Restore, 440.0*scale, rn.Ready, 25.1, server.PhResumeTook, 495.0*scale, pause.PhFirstGet, 3.2)}
	raw := &measure.Result{Name: measure.RawNet, Phases: phasesOf(runs,
		pause.PhCheckpoint, 117.7*scale, pause.PhFullStop, 1900.0, pause.PhWaitStopped, 1750.0, pause.PhDelete, 30.2,
		pause.PhRawResume, 450.9*scale, pause.PhReaddress, 8.2, pause.PhRestore, 442.7*scale, pause.PhFirstGet, 12.5)}
	return pause.Cycle{HoldMB: holdMB, Runs: runs, Results: []*measure.Result{rt, raw},
		Images: map[string]int64{measure.Runtools: int64(48.3 * scale * (1 << 20)), measure.RawNet: int64(40.1 * scale * (1 << 20))}}
}

func snapCycle() pause.Cycle {
	rb, fk := server.RestorePhaseNames("rollback"), server.RestorePhaseNames("fork")
	rt := &measure.Result{Name: measure.Runtools, Phases: phasesOf(10,
		"snapshot (`client.TakeSnapshot`)", 180.4, server.SnapshotImagePhases[0], 120.1, server.SnapshotImagePhases[1], 40.2,
		server.SnapshotImagePhases[2], 10.1, "snapshot: (the daemon's own \"took\", from its log)", 170.0,
		"rollback (`client.Rollback`)", 620.3, rb.Prepare, 90.1, rb.Restore, 480.2, rb.Ready, 30.3,
		"rollback: (the resume part, the daemon's \"took\" from its log)", 600.0, "rollback: (first HTTP GET after it, not in the total)", 4.1,
		"fork (`client.Fork`)", 640.8, fk.Prepare, 95.5, fk.Restore, 490.1, fk.Ready, 33.3,
		"fork: (the resume part, the daemon's \"took\" from its log)", 610.0, "fork: (first HTTP GET to the fork, not in the total)", 5.5)}
	return pause.Cycle{HoldMB: 0, Runs: 10, Results: []*measure.Result{rt}, Images: map[string]int64{measure.Runtools: 52 << 20}}
}

func loadRes(name string, conns int, reqs int, lat float64, cpu float64) proxy.LoadResult {
	return proxy.LoadResult{Name: name, Conns: conns, Requests: reqs, Elapsed: 5 * time.Second, Lat: ss(lat, 200),
		DaemonCPU: d(cpu * float64(reqs) / 1000)}
}

const (
	epDirect = "direct (sandbox address, port 3000)"
	epProxy  = "through the proxy (Host `3000-ID.sandboxes.localhost:PORT`)"
)

func fullFixture() *fixture {
	cfg := fullConfig()
	all := newSections(cfg)
	f := &fixture{cfg: cfg, all: all, create: pick[*compare.Create](all), exec: pick[*compare.Exec](all),
		pause: pick[*pause.Section](all), proxy: pick[*proxy.Section](all), ssh: pick[*ssh.Section](all), disk: pick[*disk.Section](all),
		desktop: pick[*desktop.Section](all), tpl: pick[*templates.Section](all), code: pick[*code.Section](all), events: pick[*events.Section](all),
		density: pick[*density.Section](all), reuse: pick[*reuse.Section](all)}
	f.frame = report.Frame{Date: time.Date(2026, 12, 7, 17, 15, 0, 0, time.UTC),
		Machine: host.Machine{Kernel: "6.18.44", CPU: "AMD EPYC", Cores: 2, MemoryGB: 23.5, Runsc: "runsc version X",
			Podman: "podman version 4.3.1", Go: "go1.26.8", Commit: "c9160e1"},
		Platform: "systrap", Rootfs: "/var/cache/runtools/templates/base-beec7ce7bc0e/rootfs", Template: "base",
		Bridge: "rtbench0", Subnet: "10.250.0.0/16", Load: [2]string{"1.94", "16.98"}, Elapsed: 912 * time.Second,
		TemplateCheck: "unchanged: X has the same fingerprint", Podman: report.PodmanUse{Compared: true, Chains: 48}}
	f.create.Results, f.create.Platform = createResults(), "systrap"
	f.exec.Results, f.exec.Platform = execResults(), "systrap"
	f.pause.Pause, f.pause.Big, f.pause.Snap = pauseCycle(0, 20, 1), pauseCycle(140, 5, 2.5), snapCycle()
	f.pause.PauseTook, f.pause.BigTook = 150*time.Second, 60*time.Second
	fillProxy(f.proxy)
	fillSSH(f.ssh)
	fillDisk(f.disk)
	fillDesktop(f.desktop)
	fillTemplates(f.tpl)
	fillCode(f.code)
	fillEvents(f.events)
	fillDensity(f.density)
	fillCluster(pick[*cluster.Section](all))
	f.reuse.Verdict, f.reuse.Detail = "PASS", "a sandbox given the just-freed 10.250.0.3 was created in 467.2 ms"
	return f
}

func fillProxy(s *proxy.Section) {
	s.Took = 41 * time.Second
	s.Load = []proxy.LoadResult{loadRes(epDirect, 16, 12890, 6.1, 3), loadRes(epProxy, 16, 8915, 8.9, 180)}
	s.Seq = []proxy.LoadResult{loadRes(epDirect, 1, 4100, 1.1, 2), loadRes(epProxy, 1, 2500, 1.9, 210)}
	s.Wake = phasesOf(5, "paused, woken by a GET through the proxy: time to first byte", 530.2,
		"paused, `client.Resume`", 505.5, "paused, `client.Resume` then a direct GET: to first byte", 512.3)
}

func fillSSH(s *ssh.Section) {
	xf := []string{"local `cp` (baseline, file to file on the host)", "`scp` upload (SFTP protocol, OpenSSH's default)",
		"`scp` download (SFTP protocol)", "`client.Files.Write` upload (HTTP API)", "`client.Files.Open` download (HTTP API)"}
	s.SSHTrue, s.Login, s.Took = ss(180.2, 20), ss(320.4, 10), 52*time.Second
	s.Version = "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024"
	s.Transfer = ssh.Transfer{Runs: 3, MB: 100, Methods: xf, Times: map[string]stats.Samples{
		xf[0]: ss(60, 3), xf[1]: ss(900, 3), xf[2]: ss(950, 3), xf[3]: ss(700, 3), xf[4]: ss(650, 3)}}
}

// diskCell is a disk I/O cell of n runs of the phases in kv (name, base
// ms, ...), its totals their sums.
func diskCell(n int, kv ...any) *disk.Cell {
	c := &disk.Cell{Phases: phasesOf(n, kv...)}
	for i := 0; i < n; i++ {
		var sum time.Duration
		for _, name := range c.Phases.Names {
			sum += c.Phases.By[name][i]
		}
		c.Totals = append(c.Totals, sum)
	}
	return c
}

func fillDisk(s *disk.Section) {
	small := func(scale float64) *disk.Cell {
		return diskCell(3, "create", 900.0*scale, "sync", 150.0*scale, "stat", 120.0*scale, "delete", 600.0*scale)
	}
	s.Took = 7 * time.Minute
	s.Workloads = []*disk.Workload{
		{Key: "npm", Cells: map[string]*disk.Cell{disk.Durable: diskCell(3, "total", 14200.0),
			disk.Ephemeral: diskCell(3, "total", 11800.0), disk.Host: diskCell(3, "total", 9100.0)}},
		{Key: "git", Cells: map[string]*disk.Cell{disk.Durable: diskCell(3, "total", 5200.0),
			disk.Ephemeral: diskCell(3, "total", 2100.0), disk.Host: diskCell(3, "total", 800.0)}},
		{Key: "pip", Cells: map[string]*disk.Cell{disk.Durable: diskCell(3, "total", 4300.0),
			disk.Ephemeral: diskCell(3, "total", 3500.0), disk.Host: diskCell(3, "total", 2900.0)}},
		{Key: "small", Cells: map[string]*disk.Cell{disk.Durable: small(4), disk.Ephemeral: small(1.5), disk.Host: small(0.3)}},
		{Key: "fsync", Cells: map[string]*disk.Cell{disk.Durable: diskCell(3, "total", 6100.0),
			disk.Ephemeral: diskCell(3, "total", 40.0), disk.Host: diskCell(3, "total", 2200.0)}},
	}
	s.Lifecycle = map[string]stats.PhaseSet{
		disk.Durable:   phasesOf(3, disk.PhCreate, 480.0, disk.PhPause, 190.0, disk.PhResume, 390.0, disk.PhStop, 410.0, disk.PhBoot, 780.0),
		disk.Ephemeral: phasesOf(3, disk.PhCreate, 470.0, disk.PhPause, 230.0, disk.PhResume, 500.0, disk.PhStop, 380.0, disk.PhBoot, 650.0)}
	s.Setup = disk.Setup{MemoryMB: 2048, HostFS: "ext4 on /dev/vda (rw,relatime,discard)",
		DurableFS: "ext4 on /dev/loop3 (rw,nosuid,nodev,relatime,discard,errors=remount-ro)",
		Reflink:   "no (FICLONE: operation not supported)", Tools: "node v22.23.3, npm 10.9.4, git 2.39.5, Python 3.11.2, pip 23.0.1"}
}

func fillDesktop(s *desktop.Section) {
	rn := server.RestorePhaseNames("resume")
	s.Platform, s.VCPUs, s.MemoryMB, s.Took = "systrap", 2, 4096, 95*time.Second
	s.Create = phasesOf(3, "create to vncReady (`client.Create`, then `client.Get` every 50 ms until `vnc_ready`)", 4200.5,
		"create: `client.Create` returns (sandbox running, agent answering)", 1500.2,
		"create: from Create's return until `vnc_ready` is seen", 2700.3,
		"create: (the daemon's own probe, from the sandbox running until noVNC answers: \"desktop ready after=\" in its log)", 2600.1)
	s.Screen = client.ScreenSize{Width: 1280, Height: 800}
	s.Shots, s.ShotBytes = ss(120.5, 20), stats.Sizes{90000, 91000, 92000, 95000}
	s.Launch, s.Window = 3500*time.Millisecond, "Mozilla Firefox"
	s.Cycle = phasesOf(3, server.PhPause, 800.1, server.PauseImagePhases[0], 600.2, server.PauseImagePhases[1], 150.3,
		server.PauseImagePhases[2], 50.4, server.PhPauseTook, 780.0, server.PhResume, 900.5,
		"resume to usable: `client.Resume` + the first screenshot that succeeds", 1000.6,
		"resume: the first screenshot after Resume returned (retried every 50 ms until it succeeds)", 100.1,
		rn.Prepare, 60.0, rn.Restore, 800.0, rn.Ready, 40.0, server.PhResumeTook, 880.0)
	s.Images, s.FirefoxSeen = stats.Sizes{300 << 20, 310 << 20, 305 << 20}, 3
}

func fillTemplates(s *templates.Section) {
	s.Cold, s.Cached, s.Steps, s.CachedSteps, s.Size = 95*time.Second, 2300*time.Millisecond, 8, 6, 150<<20
	s.ArchiveBytes, s.Imported = 201<<20, 4*time.Second
	s.Create = []*measure.Result{{Name: "runtools, custom template", Samples: ss(669.5, 20)}, {Name: "runtools, base", Samples: ss(655.9, 20)}}
}

func fillCode(s *code.Section) {
	s.Took, s.Interp, s.Python = 48*time.Second, 1200*time.Millisecond, "Python 3.11.2, httpx 0.23.3"
	s.Warm = []*measure.Result{{Name: "exec `true`, Go SDK (`client.Exec`)", Samples: ss(36.1, 100)},
		{Name: "exec `true`, Python SDK (`Sandbox.exec`)", Samples: ss(41.7, 100)},
		{Name: "run_code `1+1`, Go SDK (`client.RunCode`), warm kernel", Samples: ss(44.9, 100)}}
	s.First = phasesOf(3, "create to first result", 1650.0, "create", 520.0, "first cell", 1130.0)
}

func fillEvents(s *events.Section) {
	states := []string{client.StatePausing, client.StatePaused, client.StateResuming, client.StateRunning}
	mk := func(name string, sandbox bool, base float64) *events.Stream {
		st := &events.Stream{Name: name, Sandbox: sandbox, FromAt: ss(base, 80), FromCall: ss(base/2, 40), ByState: map[string]stats.Samples{}}
		for i, state := range states {
			st.ByState[state] = ss(base*(1+0.1*float64(i)), 20)
		}
		if sandbox {
			st.MetricsRecv, st.MetricsAt = ss(999.6, 20), ss(1000.0, 20)
		}
		return st
	}
	s.Calls, s.Took = 80, 70*time.Second
	s.Streams = []*events.Stream{mk("sandbox stream, SSE (Go SDK `Client.Watch`)", true, 1.2), mk("sandbox stream, WebSocket", true, 1.4),
		mk("team stream, SSE (Go SDK `Client.WatchTeam`)", false, 1.3), mk("team stream, WebSocket", false, 1.5)}
}

func fillDensity(s *density.Section) {
	*s = density.Section{Config: s.Config, Cores: 2, Others: 2, Reached: 150, Stop: "the cap, -density-max 150", Answered: 150,
		Create: ss(900.1, 150), CreateTook: 40 * time.Second, MemTotal: 24 << 30, AvailStart: 20 << 30, AvailFull: 12 << 30,
		CgroupMem: stats.Sizes{40 << 20, 42 << 20, 45 << 20}, DaemonRSS: [2]int64{60 << 20, 90 << 20}, CPUBefore: 3.2, CPUFull: 20.5,
		CPUSandboxes: 30.1, CPUDaemon: 4.4, Paused: 150, Pause: ss(300.5, 150), PauseTook: 20 * time.Second,
		AvailPaused: 19 << 30, PausedDisk: stats.Sizes{50 << 20, 55 << 20, 60 << 20}, PauseImage: stats.Sizes{40 << 20, 45 << 20, 50 << 20},
		DiskFree: 100 << 30, Resumed: 3, ResumeTried: 3, DestroyTook: 30 * time.Second, AvailEnd: 19 << 30, Took: 200 * time.Second}
}

// partialFixture leaves create and exec out, and takes many of the
// sections' other branches: parts skipped or failing, the reuse MISS.
func partialFixture() *fixture {
	f := fullFixture()
	f.cfg.only, _ = parseSections("pause,proxy,ssh,disk,desktop,templates,code,events,density,reuse")
	f.create.Results, f.exec.Results = nil, nil // not run
	f.pause.Big = pause.Cycle{HoldMB: 140, Runs: 5, Skipped: "left out with -big-runs=0"}
	f.pause.Snap = pause.Cycle{HoldMB: 0, Runs: 10, Skipped: "the runtools sandbox failed its pause/resume runs"}
	f.proxy.WakeSkipped = "failed in round 2: pausing x: boom | bar"
	f.proxy.Load[1].Errors, f.proxy.Load[1].FirstErr = 3, "answered 502 Bad Gateway"
	f.ssh.Login = nil
	f.ssh.Transfer.Skipped = "left out with -scp-runs=0"
	f.disk.Workloads[0].Cells[disk.Host] = &disk.Cell{NA: "N/A: the npm registry is unreachable (`npm ping` failed): exit status 1: npm error code ENOTFOUND"}
	f.disk.Workloads[1].Cells[disk.Ephemeral].NA = "failed in run 3: exit code 128: fatal: | out of memory"
	delete(f.disk.Lifecycle, disk.Ephemeral)
	f.desktop.ShotSkipped = "failed: screenshot of x: not a PNG"
	f.desktop.FirefoxSeen, f.desktop.FirefoxMissing = 2, `"xterm", "Desktop"`
	f.tpl.Create = f.tpl.Create[:1]
	f.code.Warm[1] = &measure.Result{Name: f.code.Warm[1].Name, Dropped: "the Python side: EOF: ModuleNotFoundError: No module named 'httpx'"}
	f.code.First, f.code.FirstSkipped = stats.PhaseSet{}, "left out with -code-first-runs=0"
	f.events.Failures = []string{"pause: 409 conflict", "resume: timeout"}
	f.density.PauseFailed, f.density.Paused = "pausing x: disk full", 140
	f.density.Leaks = []string{"density sandbox a: directory", "density sandbox b: cgroup"}
	f.density.CgroupMem, f.density.Others = nil, 0
	f.reuse.Verdict = "MISS"
	f.reuse.Detail = "Create of a sandbox given the just-freed 10.250.0.3 had not returned after 3s; the bench then deleted it"
	f.frame.Leaks = []string{"density sandbox a: directory", "interface rtbench1-3"}
	f.frame.Podman = report.PodmanUse{}
	return f
}

// compareFixture is create and exec only: podman unavailable, a system
// dropped, runtools phases without the agent's start.
func compareFixture() *fixture {
	f := fullFixture()
	f.cfg.only, _ = parseSections("exec,create")
	f.frame.Elapsed = 95 * time.Second
	why := "podman is not usable: exec: \"podman\": executable file not found in $PATH"
	f.create.PodmanWhy, f.exec.PodmanWhy = why, why
	f.frame.Podman = report.PodmanUse{Compared: true, Why: why}
	f.create.Results = f.create.Results[:3]
	f.create.Results[0].Phases = phasesOf(20, "API call to record", 1.5, "record + network setup", 4.6, "runsc run + agent ready", 447.1,
		"record running + reply", 3.7, "first exec", 62.9)
	f.exec.Results = f.exec.Results[:4]
	f.exec.Results[1] = &measure.Result{Name: compare.Agent, Dropped: "agent exec true: exit code 1\n with | pipe"}
	return f
}

// skippedFixture is a full run in which podman was dropped during create
// and every other section was left out or failed.
func skippedFixture() *fixture {
	f := fullFixture()
	why := "podman run: exit status 125"
	f.cfg.proxySeconds, f.cfg.desktopRuns, f.cfg.eventRuns, f.cfg.densityMax = 0, 0, 0, 0
	f.desktop.Config.Runs, f.events.Config.Runs, f.density.Config.Max = 0, 0, 0
	f.create.PodmanWhy, f.exec.PodmanWhy = why, why
	f.frame.Podman = report.PodmanUse{Compared: true, Why: why}
	f.create.Results[3] = &measure.Result{Name: measure.Podman, Dropped: why}
	f.exec.Results = f.exec.Results[:4]
	f.pause.Pause = pause.Cycle{HoldMB: 0, Runs: 20, Results: []*measure.Result{
		{Name: measure.Runtools, Dropped: "failed in round 3: pausing: boom"}, f.pause.Pause.Results[1]},
		Images: map[string]int64{measure.RawNet: 40 << 20}}
	f.pause.Big = pause.Cycle{HoldMB: 140, Runs: 5, Skipped: "left out with -big-runs=0"}
	f.pause.Snap = pause.Cycle{HoldMB: 0, Runs: 10, Skipped: "left out with -snapshot-runs=0"}
	*f.proxy = proxy.Section{Config: f.proxy.Config, Pause: f.pause, Skipped: "left out with -proxy-seconds=0"}
	f.proxy.Config.Seconds = 0
	*f.ssh = ssh.Section{Config: f.ssh.Config, Exec: f.exec, Skipped: "failed: ssh: executable file not found"}
	f.cfg.diskRuns, f.disk.Config.Runs = 0, 0
	*f.disk = disk.Section{Config: f.disk.Config, Skipped: "left out with -disk-runs=0"}
	*f.desktop = desktop.Section{Config: f.desktop.Config, Platform: "systrap", Skipped: "left out with -desktop-runs=0"}
	*f.tpl = templates.Section{Config: f.tpl.Config, Skipped: "failed: cold build: boom"}
	*f.code = code.Section{Config: f.code.Config, Skipped: "the `code` template is missing; build it with `runtools server build-templates code`"}
	*f.events = events.Section{Config: f.events.Config, Skipped: "left out with -event-runs=0"}
	*f.density = density.Section{Config: f.density.Config, Skipped: "left out with -density-max=0"}
	cs := pick[*cluster.Section](f.all)
	*cs = cluster.Section{Config: cs.Config, Skipped: "/usr/local/lib/runtools/weed is missing (`make setup` installs PostgreSQL 15 and builds SeaweedFS with scripts/weed.sh)"}
	f.reuse.Verdict, f.reuse.Detail = "N/A", "the new sandbox got 10.250.0.9, not the freed 10.250.0.3"
	return f
}
