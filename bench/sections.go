package main

import (
	"fmt"
	"slices"
	"strings"

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
)

// newSections are all the sections, told cfg, in the order the bench runs
// them and the report shows them. A section that quotes another's numbers
// is given it.
func newSections(cfg config) []section.Section {
	cmp := compare.Config{Runs: cfg.runs, ExecRuns: cfg.execRuns, Template: cfg.template,
		Bridge: cfg.bridge, Subnet: cfg.subnet, RawBridge: cfg.rawBridge}
	exec := &compare.Exec{Config: cmp}
	ps := &pause.Section{Config: pause.Config{Runs: cfg.pauseRuns, SnapRuns: cfg.snapRuns, BigRuns: cfg.bigRuns, BigMB: cfg.bigMB,
		Template: cfg.template, RawBridge: cfg.rawBridge}}
	return []section.Section{
		// create to first exec: runtools, raw runsc, podman
		&compare.Create{Config: cmp},
		// exec of `true` in a running sandbox
		exec,
		// pause/resume (small and large), snapshot/rollback/fork
		ps,
		// dev-server proxy and wake by request
		&proxy.Section{Pause: ps, Config: proxy.Config{Seconds: cfg.proxySeconds, Conns: cfg.proxyConns,
			WakeRuns: cfg.wakeRuns, Template: cfg.template}},
		// SSH gateway and file transfers
		&ssh.Section{Exec: exec, Config: ssh.Config{Runs: cfg.sshRuns, LoginRuns: cfg.loginRuns, ScpRuns: cfg.scpRuns,
			ScpMB: cfg.scpMB, Template: cfg.template}},
		// disk I/O: durable disk, ephemeral disk, host; stop and boot
		&disk.Section{Config: disk.Config{Runs: cfg.diskRuns, Template: cfg.template}},
		// desktop sandboxes
		&desktop.Section{Config: desktop.Config{Runs: cfg.desktopRuns, ShotRuns: cfg.desktopShotRuns,
			PauseRuns: cfg.desktopPauseRuns}},
		// custom templates: Dockerfile builds, creates against base
		&templates.Section{Config: templates.Config{Runs: cfg.runs}},
		// the code interpreter: Python SDK against Go SDK, run_code against exec, first result
		&code.Section{Config: code.Config{Runs: cfg.codeRuns, FirstRuns: cfg.codeFirstRuns}},
		// event stream latency and metrics cadence
		&events.Section{Config: events.Config{Runs: cfg.eventRuns, Template: cfg.template}},
		// idle sandboxes at once, paused ones kept
		&density.Section{Config: density.Config{Max: cfg.densityMax, Batch: cfg.densityBatch, FloorPct: cfg.densityFloor,
			Template: cfg.template, Subnet: cfg.subnet}},
		// three nodes of one cluster: creates at once on 1 and 3 nodes, forwarding, moves, drain
		&cluster.Section{Config: cluster.Config{Creates: cfg.clusterCreates, ExecRuns: cfg.execRuns, MoveRuns: cfg.clusterMoveRuns,
			Drain: cfg.clusterDrain, Template: cfg.template, Binary: cfg.binary, TemplateDir: cfg.templateDir}},
		// the address reuse check
		&reuse.Section{Config: reuse.Config{Template: cfg.template}},
	}
}

// sectionNames are the names -only takes, in order.
func sectionNames() []string {
	var names []string
	for _, s := range newSections(config{}) {
		names = append(names, s.Name())
	}
	return names
}

// selected are the sections cfg.only picks, told cfg.
func selected(cfg config) []section.Section {
	var out []section.Section
	for _, s := range newSections(cfg) {
		if cfg.only.has(s.Name()) {
			out = append(out, s)
		}
	}
	return out
}

// sectionSet is the sections a run measures, in the order they run.
type sectionSet []string

// parseSections reads -only: a comma-separated list of section names, or
// "" for all of them.
func parseSections(s string) (sectionSet, error) {
	all := sectionNames()
	if strings.TrimSpace(s) == "" {
		return all, nil
	}
	var set sectionSet
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(all, name) {
			return nil, fmt.Errorf("-only: unknown section %q (sections: %s)", name, strings.Join(all, ", "))
		}
		if !slices.Contains(set, name) {
			set = append(set, name)
		}
	}
	// In the order they run, whatever the order given.
	slices.SortFunc(set, func(a, b string) int { return slices.Index(all, a) - slices.Index(all, b) })
	return set, nil
}

func (s sectionSet) has(name string) bool { return slices.Contains(s, name) }

// partial reports whether some sections are left out.
func (s sectionSet) partial() bool { return len(s) < len(sectionNames()) }
