package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/runtools/runtools/bench/internal/measure"
)

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
	subnetPrefix         netip.Prefix // subnet, parsed
	rawPrefix            netip.Prefix // rawSubnet, parsed
	podman               bool
	pauseRuns, snapRuns  int
	bigRuns, bigMB       int
	proxySeconds         int // per endpoint and load; 0 leaves the proxy out
	proxyConns, wakeRuns int
	sshRuns, loginRuns   int // 0 ssh runs leaves SSH out
	scpRuns, scpMB       int
	diskRuns             int // 0 leaves the disk I/O section out
	desktopRuns          int // 0 leaves the desktop section out
	desktopShotRuns      int
	desktopPauseRuns     int
	codeRuns             int // 0 leaves the code interpreter section out
	codeFirstRuns        int
	eventRuns            int // 0 leaves the event latency section out
	densityMax           int // 0 leaves the density section out
	densityBatch         int
	densityFloor         int // % of MemTotal
	clusterCreates       int // 0 leaves the cluster section out
	clusterMoveRuns      int
	clusterDrain         int
	only                 sectionSet // the sections to run
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c.register(fs)
	only := fs.String("only", "", "comma-separated sections to run, of "+strings.Join(sectionNames(), ", ")+" (default: all)")
	fs.DurationVar(&measure.SettleTime, "settle", measure.SettleTime, "idle gap before every trial, the same for every system")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.only, err = parseSections(*only); err != nil {
		return c, err
	}
	if c.pauseRuns == 0 {
		c.pauseRuns = c.runs
	}
	if err := c.check(); err != nil {
		return c, err
	}
	if c.subnetPrefix, err = netip.ParsePrefix(c.subnet); err != nil {
		return c, fmt.Errorf("-subnet: %w", err)
	}
	if c.rawPrefix, err = netip.ParsePrefix(c.rawSubnet); err != nil {
		return c, fmt.Errorf("-raw-subnet: %w", err)
	}
	if c.execRuns < 50 {
		fmt.Fprintln(os.Stderr, "bench: warning: -exec-runs below 50 makes p99 meaningless")
	}
	return c, nil
}

// register defines the flags, in c.
func (c *config) register(fs *flag.FlagSet) {
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
	fs.IntVar(&c.diskRuns, "disk-runs", 3, "runs of each disk I/O workload per system (durable disk, ephemeral disk, host), and of stop/boot (0: leave the disk section out)")
	fs.IntVar(&c.desktopRuns, "desktop-runs", 3, "desktop create-to-vncReady runs (0: leave the desktop section out)")
	fs.IntVar(&c.desktopShotRuns, "desktop-shot-runs", 20, "desktop screenshot runs (0: leave them out)")
	fs.IntVar(&c.desktopPauseRuns, "desktop-pause-runs", 3, "desktop pause/resume runs with Firefox open (0: leave Firefox and them out)")
	fs.IntVar(&c.codeRuns, "code-runs", 100, "warm runs of exec through the Go and the Python SDK and of run_code in a code sandbox (0: leave the code section out)")
	fs.IntVar(&c.codeFirstRuns, "code-first-runs", 3, "runs of creating a code sandbox until its first cell's result (0: leave them out)")
	fs.IntVar(&c.eventRuns, "event-runs", 20, "pause/resume trials of the event latency section, and metrics intervals (0: leave it out)")
	fs.IntVar(&c.densityMax, "density-max", 150, "most idle sandboxes the density section runs at once (0: leave it out)")
	fs.IntVar(&c.densityBatch, "density-batch", 4, "sandboxes the density section creates, pauses or destroys at a time")
	fs.IntVar(&c.densityFloor, "density-floor", 15, "the density section stops creating when MemAvailable falls below this % of MemTotal")
	fs.IntVar(&c.clusterCreates, "cluster-creates", 30, "sandboxes the cluster section creates at once, on 1 node and on 3 (0: leave the cluster section out)")
	fs.IntVar(&c.clusterMoveRuns, "cluster-move-runs", 5, "cross-node and local resumes of the cluster section")
	fs.IntVar(&c.clusterDrain, "cluster-drain", 3, "sandboxes on the node the cluster section drains")
}

// check says what is wrong with the numbers given, if anything.
func (c *config) check() error {
	switch {
	case c.eventRuns < 0 || c.densityMax < 0 || c.densityBatch < 1 || c.densityFloor < 1 || c.densityFloor > 90:
		return errors.New("-event-runs and -density-max must be at least 0, -density-batch at least 1, -density-floor 1-90")
	case c.runs < 1 || c.execRuns < 1:
		return errors.New("-runs and -exec-runs must be at least 1")
	case c.pauseRuns < 1 || c.snapRuns < 0 || c.bigRuns < 0 || c.bigMB < 1:
		return errors.New("-pause-runs and -big-mb must be at least 1, -snapshot-runs and -big-runs at least 0")
	case c.proxySeconds < 0 || c.wakeRuns < 0 || c.sshRuns < 0 || c.loginRuns < 0 || c.scpRuns < 0 || c.diskRuns < 0:
		return errors.New("-proxy-seconds, -wake-runs, -ssh-runs, -login-runs, -scp-runs and -disk-runs must be at least 0")
	case c.desktopRuns < 0 || c.desktopShotRuns < 0 || c.desktopPauseRuns < 0 || c.codeRuns < 0 || c.codeFirstRuns < 0:
		return errors.New("-desktop-runs, -desktop-shot-runs, -desktop-pause-runs, -code-runs and -code-first-runs must be at least 0")
	case c.proxyConns < 1 || c.scpMB < 1:
		return errors.New("-proxy-conns and -scp-mb must be at least 1")
	case c.clusterCreates < 0 || c.clusterMoveRuns < 1 || c.clusterDrain < 1:
		return errors.New("-cluster-creates must be at least 0, -cluster-move-runs and -cluster-drain at least 1")
	}
	return nil
}

// commandLine is the command that ran the bench, with the numbers that
// shape the report, for its first line.
func (c *config) commandLine() string {
	only := ""
	if c.only.partial() {
		only = " -only " + strings.Join(c.only, ",")
	}
	return fmt.Sprintf("`go run ./bench -runs %d -exec-runs %d -pause-runs %d -snapshot-runs %d -big-runs %d -big-mb %d"+
		" -proxy-seconds %d -proxy-conns %d -wake-runs %d -ssh-runs %d -login-runs %d -scp-runs %d -scp-mb %d -disk-runs %d"+
		" -desktop-runs %d -desktop-shot-runs %d -desktop-pause-runs %d -code-runs %d -code-first-runs %d"+
		" -event-runs %d -density-max %d -density-batch %d -density-floor %d"+
		" -cluster-creates %d -cluster-move-runs %d -cluster-drain %d%s`",
		c.runs, c.execRuns, c.pauseRuns, c.snapRuns, c.bigRuns, c.bigMB,
		c.proxySeconds, c.proxyConns, c.wakeRuns, c.sshRuns, c.loginRuns, c.scpRuns, c.scpMB, c.diskRuns,
		c.desktopRuns, c.desktopShotRuns, c.desktopPauseRuns, c.codeRuns, c.codeFirstRuns,
		c.eventRuns, c.densityMax, c.densityBatch, c.densityFloor,
		c.clusterCreates, c.clusterMoveRuns, c.clusterDrain, only)
}
