// Command bench compares runtools with raw runsc and with podman running
// runsc, on the same machine, template root filesystem and gVisor
// platform: the latency from create to a first `true` exec, and the round
// trip of `true` in a warm sandbox. It prints a table and writes
// BENCHMARKS.md. It needs root, and cleans up everything it makes, also on
// failure or Ctrl-C.
//
//	go run ./bench -runs 20 -out BENCHMARKS.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/hostfs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted (everything made so far was removed): %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is everything the bench can be told.
type config struct {
	runs, execRuns       int
	out                  string
	binary, runsc        string
	templateDir          string
	template             string
	platform             string
	bridge, subnet       string
	rawBridge, rawSubnet string
	podman               bool
	pauseRuns, snapRuns  int
	bigRuns, bigMB       int
	proxySeconds         int // per endpoint and load; 0 leaves the proxy out
	proxyConns, wakeRuns int
	sshRuns, loginRuns   int // 0 ssh runs leaves SSH out
	scpRuns, scpMB       int
	desktopRuns          int // 0 leaves the desktop section out
	desktopShotRuns      int
	desktopPauseRuns     int
	eventRuns            int // 0 leaves the event latency section out
	densityMax           int // 0 leaves the density section out
	densityBatch         int
	densityFloor         int        // % of MemTotal
	only                 sectionSet // the sections to run
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&c.runs, "runs", 20, "create-to-first-exec runs per system")
	fs.IntVar(&c.execRuns, "exec-runs", 100, "warm exec runs per system (at least 50)")
	fs.StringVar(&c.out, "out", "", "write the report to this Markdown file too")
	fs.StringVar(&c.binary, "bin", "bin/runtools", "runtools binary; built from ./cmd/runtools if missing")
	fs.StringVar(&c.runsc, "runsc", "/usr/local/lib/runtools/runsc", "runsc binary, for every system")
	tdir := os.Getenv("RUNTOOLS_TEMPLATE_DIR")
	if tdir == "" {
		tdir = "/var/cache/runtools/templates"
	}
	fs.StringVar(&c.templateDir, "template-dir", tdir, "template cache (default $RUNTOOLS_TEMPLATE_DIR)")
	fs.StringVar(&c.template, "template", "base", "template every system runs")
	fs.StringVar(&c.platform, "platform", "auto", "gVisor platform; auto takes the one the runtools server picks")
	fs.StringVar(&c.bridge, "bridge", "rtbench0", "bridge of the runtools server")
	fs.StringVar(&c.subnet, "subnet", "10.250.0.0/16", "subnet of the runtools server")
	fs.StringVar(&c.rawBridge, "raw-bridge", "rtbench1", "bridge of the raw runsc sandboxes")
	fs.StringVar(&c.rawSubnet, "raw-subnet", "10.251.0.0/24", "subnet of the raw runsc sandboxes")
	fs.BoolVar(&c.podman, "podman", true, "include podman with runsc")
	fs.IntVar(&c.pauseRuns, "pause-runs", 0, "pause/resume runs per system (0: as many as -runs)")
	fs.IntVar(&c.snapRuns, "snapshot-runs", 10, "snapshot, rollback and fork runs (0: leave them out)")
	fs.IntVar(&c.bigRuns, "big-runs", 5, "pause/resume runs per system with the large Node.js process (0: leave it out)")
	fs.IntVar(&c.bigMB, "big-mb", 140, "MiB of random data the large Node.js process holds")
	fs.IntVar(&c.proxySeconds, "proxy-seconds", 5, "seconds of load per endpoint, direct and through the dev-server proxy, with -proxy-conns and with 1 connection (0: leave the proxy out)")
	fs.IntVar(&c.proxyConns, "proxy-conns", 16, "concurrent keep-alive connections of the proxy load")
	fs.IntVar(&c.wakeRuns, "wake-runs", 5, "runs of waking a paused sandbox by a request through the proxy (0: leave them out)")
	fs.IntVar(&c.sshRuns, "ssh-runs", 20, "`ssh ID@host true` runs (0: leave SSH out)")
	fs.IntVar(&c.loginRuns, "login-runs", 10, "SSH login-to-prompt runs (0: leave them out)")
	fs.IntVar(&c.scpRuns, "scp-runs", 3, "file transfer rounds: cp, scp and the files API (0: leave them out)")
	fs.IntVar(&c.scpMB, "scp-mb", 100, "MiB of the file the transfer rounds copy")
	fs.IntVar(&c.desktopRuns, "desktop-runs", 3, "desktop create-to-vncReady runs (0: leave the desktop section out)")
	fs.IntVar(&c.desktopShotRuns, "desktop-shot-runs", 20, "desktop screenshot runs (0: leave them out)")
	fs.IntVar(&c.desktopPauseRuns, "desktop-pause-runs", 3, "desktop pause/resume runs with Firefox open (0: leave Firefox and them out)")
	fs.IntVar(&c.eventRuns, "event-runs", 20, "pause/resume trials of the event latency section, and metrics intervals (0: leave it out)")
	fs.IntVar(&c.densityMax, "density-max", 150, "most idle sandboxes the density section runs at once (0: leave it out)")
	fs.IntVar(&c.densityBatch, "density-batch", 4, "sandboxes the density section creates, pauses or destroys at a time")
	fs.IntVar(&c.densityFloor, "density-floor", 15, "the density section stops creating when MemAvailable falls below this % of MemTotal")
	only := fs.String("only", "", "comma-separated sections to run, of "+strings.Join(allSections, ", ")+" (default: all)")
	fs.DurationVar(&settleTime, "settle", settleTime, "idle gap before every trial, the same for every system")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.only, err = parseSections(*only); err != nil {
		return c, err
	}
	if c.eventRuns < 0 || c.densityMax < 0 || c.densityBatch < 1 || c.densityFloor < 1 || c.densityFloor > 90 {
		return c, errors.New("-event-runs and -density-max must be at least 0, -density-batch at least 1, -density-floor 1-90")
	}
	if c.runs < 1 || c.execRuns < 1 {
		return c, errors.New("-runs and -exec-runs must be at least 1")
	}
	if c.pauseRuns == 0 {
		c.pauseRuns = c.runs
	}
	if c.pauseRuns < 1 || c.snapRuns < 0 || c.bigRuns < 0 || c.bigMB < 1 {
		return c, errors.New("-pause-runs and -big-mb must be at least 1, -snapshot-runs and -big-runs at least 0")
	}
	if c.proxySeconds < 0 || c.wakeRuns < 0 || c.sshRuns < 0 || c.loginRuns < 0 || c.scpRuns < 0 {
		return c, errors.New("-proxy-seconds, -wake-runs, -ssh-runs, -login-runs and -scp-runs must be at least 0")
	}
	if c.desktopRuns < 0 || c.desktopShotRuns < 0 || c.desktopPauseRuns < 0 {
		return c, errors.New("-desktop-runs, -desktop-shot-runs and -desktop-pause-runs must be at least 0")
	}
	if c.proxyConns < 1 || c.scpMB < 1 {
		return c, errors.New("-proxy-conns and -scp-mb must be at least 1")
	}
	if c.execRuns < 50 {
		fmt.Fprintln(os.Stderr, "bench: warning: -exec-runs below 50 makes p99 meaningless")
	}
	return c, nil
}

func run(ctx context.Context, args []string) (err error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, gVisor)")
	}
	if _, err := os.Stat(cfg.runsc); err != nil {
		return fmt.Errorf("runsc: %w (run `make setup`)", err)
	}
	if err := ensureBinary(ctx, &cfg); err != nil {
		return err
	}
	subnet, err := netip.ParsePrefix(cfg.subnet)
	if err != nil {
		return fmt.Errorf("-subnet: %w", err)
	}
	rawSubnet, err := netip.ParsePrefix(cfg.rawSubnet)
	if err != nil {
		return fmt.Errorf("-raw-subnet: %w", err)
	}
	if err := errors.Join(checkSubnetFree(subnet, cfg.bridge), checkSubnetFree(rawSubnet, cfg.rawBridge)); err != nil {
		return err
	}

	started := time.Now()
	var undo undoStack
	defer undo.run()
	tmp, err := benchDir(&undo)
	if err != nil {
		return err
	}
	before, err := fingerprintTemplates(cfg.templateDir)
	if err != nil {
		return err
	}
	rep := &report{cfg: cfg, date: time.Now().UTC(), machine: describeMachine(ctx, cfg.runsc)}
	rep.load[0] = loadAverage()

	srv, err := startServer(ctx, cfg, filepath.Join(tmp, "server"))
	if srv != nil {
		undo.push("stop the runtools server", srv.stop)
		defer func() {
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: runtools server log, last lines:\n%s\n", lastLines(srv.log.String(), 40))
			}
		}()
	}
	if err != nil {
		return fmt.Errorf("runtools server: %w", err)
	}
	rep.platform = srv.platform
	// The long-lived runtools sandbox: for the warm exec runs, and its OCI
	// spec is what the raw runsc sandboxes copy and tells the template's
	// root filesystem.
	warm, err := srv.c.Create(ctx, client.CreateRequest{Template: cfg.template})
	if err != nil {
		return fmt.Errorf("creating the warm runtools sandbox: %w", err)
	}
	undo.push("destroy "+warm.ID, func(ctx context.Context) error { return srv.c.Destroy(ctx, warm.ID) })
	if rep.rootfs, err = srv.rootfs(warm.ID); err != nil {
		return err
	}

	var raw *rawRunsc
	var pm *podman
	if cfg.only.needsRaw() {
		rn, err := newRawNet(ctx, cfg.rawBridge, rawSubnet)
		undo.push("remove the raw runsc network", func(ctx context.Context) error {
			return errors.Join(removeNetns(ctx, cfg.rawBridge+"-"), deleteLink(ctx, cfg.rawBridge))
		})
		if err != nil {
			return err
		}
		if raw, err = newRawRunsc(cfg.runsc, filepath.Join(tmp, "raw"), srv.platform, srv.bundleSpecPath(warm.ID), rn); err != nil {
			return err
		}
		undo.push("remove raw runsc sandboxes", raw.close)
	}
	switch {
	case !cfg.only.needsPodman():
	case !cfg.podman:
		rep.podmanWhy = "left out with -podman=false"
	default:
		if pm, err = newPodman(ctx, cfg.runsc, srv.platform, raw.rootfs(), filepath.Base(tmp)); err != nil {
			rep.podmanWhy = err.Error()
		} else {
			undo.push("remove podman containers", pm.close)
		}
	}
	podmanAll := pm // for the cleanup checks, even if podman drops out

	if cfg.only.has(secCreate) {
		creators := []creator{
			{name: nameRuntools, once: func(ctx context.Context) (trial, error) { return srv.createFirstExec(ctx, cfg.template) }},
			{name: nameRawNet, once: func(ctx context.Context) (trial, error) { return raw.createFirstExec(ctx, true) }},
			{name: nameRawNone, once: func(ctx context.Context) (trial, error) { return raw.createFirstExec(ctx, false) }},
		}
		if pm != nil {
			creators = append(creators, creator{name: namePodman, optional: true, once: pm.createFirstExec})
		}
		if rep.create, err = measureCreate(ctx, creators, cfg.runs, 1); err != nil {
			return err
		}
		if pm != nil && rep.create[3].dropped != "" {
			rep.podmanWhy, pm = rep.create[3].dropped, nil
		}
	}
	if cfg.only.has(secExec) {
		execers, err := warmExecers(ctx, &undo, srv, warm.ID, raw, pm)
		if err != nil {
			return err
		}
		if rep.exec, err = measureExec(ctx, execers, cfg.execRuns, 5); err != nil {
			return err
		}
	}
	if cfg.only.has(secPause) {
		if err := measurePauseSections(ctx, &undo, rep, srv, raw); err != nil {
			return err
		}
	}
	if err := measureAccessSections(ctx, &undo, rep, srv); err != nil {
		return err
	}
	if cfg.only.has(secDesktop) {
		if err := measureDesktopSection(ctx, &undo, rep, srv); err != nil {
			return err
		}
	}
	if cfg.only.has(secTemplates) {
		if err := measureTemplatesSection(ctx, rep, srv); err != nil {
			return err
		}
	}
	if cfg.only.has(secEvents) {
		if err := measureEventsSection(ctx, &undo, rep, srv); err != nil {
			return err
		}
	}
	if cfg.only.has(secDensity) {
		if err := measureDensitySection(ctx, &undo, rep, srv); err != nil {
			return err
		}
	}

	rep.load[1] = loadAverage()
	if cfg.only.has(secReuse) {
		fmt.Fprintln(os.Stderr, "address reuse check")
		if rep.reuse, err = srv.checkAddressReuse(ctx, cfg.template, 3*time.Second); err != nil {
			return fmt.Errorf("address reuse check: %w", err)
		}
	}

	after, err := fingerprintTemplates(cfg.templateDir)
	if err != nil {
		return err
	}
	rep.templateCheck = compareTemplates(before, after, filepath.Dir(rep.rootfs))
	if failed := undo.run(); failed > 0 {
		rep.leaks = append(rep.leaks, fmt.Sprintf("%d cleanup steps failed (see stderr)", failed))
	}
	if podmanAll != nil {
		rep.cniChains = podmanAll.leaked
	}
	rep.leaks = append(rep.leaks, findLeaks(ctx, cfg, podmanAll)...)
	rep.elapsed = time.Since(started)

	text := rep.markdown()
	fmt.Print(text)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", cfg.out, err)
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", cfg.out)
	}
	if len(rep.leaks) > 0 {
		return fmt.Errorf("left behind: %v", rep.leaks)
	}
	return nil
}

// The systems' names in the tables.
const (
	nameRuntools = "runtools (Go SDK)"
	nameRawNet   = "raw runsc + netns"
	nameRawNone  = "raw runsc, --network=none"
	namePodman   = "podman + runsc"
	nameAgent    = "agent /exec direct (no daemon)"
	nameSpawn    = "in-sandbox spawn (/debug/spawn)"
)

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// benchDir makes the bench's temporary directory, removed by undo. The
// shared mounts of custom templates outlive the server on purpose (its
// sandboxes keep using them); the bench's go with the directory.
func benchDir(undo *undoStack) (string, error) {
	tmp, err := os.MkdirTemp("", "runtools-bench-")
	if err != nil {
		return "", fmt.Errorf("making a temporary directory: %w", err)
	}
	undo.push("remove "+tmp, func(context.Context) error {
		if err := hostfs.UnmountUnder(tmp); err != nil {
			return err
		}
		return os.RemoveAll(tmp)
	})
	return tmp, nil
}
