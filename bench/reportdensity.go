package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// densityFlags are the event and density flags of the run, for the
// report's first line.
func (r *report) densityFlags() string {
	c := r.cfg
	return fmt.Sprintf("-event-runs %d -density-max %d -density-batch %d -density-floor %d", c.eventRuns, c.densityMax, c.densityBatch, c.densityFloor)
}

// densityMarkdown writes the density section.
func (r *report) densityMarkdown(b *strings.Builder) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	sec := r.density
	if sec.skipped != "" {
		w("\n### Density\n\nNot measured: %s.\n", oneLine(sec.skipped))
		return
	}
	n := sec.reached
	w("\n### Density: idle `%s` sandboxes running at once, then paused (runtools)\n\n", r.cfg.template)
	w("The section took %s.\n\n| | |\n|---|---|\n", sec.took.Round(time.Second))
	others := ""
	if sec.others > 0 {
		others = fmt.Sprintf(", besides %d of other sections", sec.others)
	}
	w("| sandboxes running at once | **%d**%s; it stopped at %s |\n", n, others, oneLine(sec.stop))
	w("| all of them alive | %d of %d ran `true` once all were up |\n", sec.answered, n)
	w("| `client.Create`, %d at a time | p50 %s, p99 %s; all %d in %s |\n", sec.batch, ms(sec.create.p50()), ms(sec.create.p99()), n, seconds1(sec.createTook))
	hostPer := int64(0)
	if n > 0 {
		hostPer = (sec.availStart - sec.availFull) / int64(n)
	}
	if len(sec.cgroupMem) > 0 {
		w("| memory per running sandbox, its cgroup (as the daemon's metrics count it) | median **%s** (%s to %s, %d sandboxes) |\n",
			mib(median(sec.cgroupMem)), mib(slices.Min(sec.cgroupMem)), mib(slices.Max(sec.cgroupMem)), len(sec.cgroupMem))
	} else {
		w("| memory per running sandbox, its cgroup | not found: no memory cgroup under %s or %s |\n", cgroupMemoryRoot, cgroupV2Root)
	}
	w("| memory per running sandbox, host | **%s** (MemAvailable fell by %s for %d sandboxes) |\n", mib(hostPer), gib(sec.availStart-sec.availFull), n)
	w("| the runtools server's own RSS | %s before, %s with all running |\n", mib(sec.daemonRSS[0]), mib(sec.daemonRSS[1]))
	w("| CPU with all running and idle, over %s | the sandboxes' cgroups %.1f%% of one core in all; the runtools server %.1f%% of one core; the host %.1f%% busy of all %d cores (%.1f%% before the first create) |\n",
		seconds(densityRest), sec.cpuSandboxes, sec.cpuDaemon, sec.cpuFull, r.machine.Cores, sec.cpuBefore)
	w("| MemAvailable at start | %s of %s MemTotal |\n", gib(sec.availStart), gib(sec.memTotal))
	if hostPer > 0 {
		fit := fmt.Sprintf("**%d** at the host's figure", sec.availStart/hostPer)
		if m := median(sec.cgroupMem); m > 0 {
			fit += fmt.Sprintf(", %d at the cgroup median", sec.availStart/m)
		}
		if sec.availStart/hostPer > bridgePorts {
			fit += fmt.Sprintf(" (but one server's bridge takes at most %d)", bridgePorts)
		}
		w("| projection: idle sandboxes that fit in memory (MemAvailable at start / memory per sandbox) | %s |\n", fit)
	}
	w("| paused | %d of %d", sec.paused, n)
	if len(sec.pause) > 0 {
		w("; `client.Pause`, %d at a time: p50 %s, p99 %s; all in %s", sec.batch, ms(sec.pause.p50()), ms(sec.pause.p99()), seconds1(sec.pauseTook))
	}
	if sec.pauseFailed != "" {
		w("; first failure: %s", oneLine(sec.pauseFailed))
	}
	w(" |\n")
	if sec.paused > 0 {
		freed := sec.availPaused - sec.availFull
		w("| host memory freed by pausing | %s, %s per sandbox (MemAvailable %s with all paused) |\n", gib(freed), mib(freed/int64(sec.paused)), gib(sec.availPaused))
	}
	if d := median(sec.pausedDisk); d > 0 {
		w("| disk per paused sandbox (its directory) | median **%s** (%s to %s), of which the pause image %s |\n",
			mib(d), mib(slices.Min(sec.pausedDisk)), mib(slices.Max(sec.pausedDisk)), mib(median(sec.pauseImage)))
		w("| projection: paused sandboxes the data directory's disk keeps | **%d** more at that size (%s free with all paused), %d in all |\n",
			sec.diskFree/d, gib(sec.diskFree), int64(sec.paused)+sec.diskFree/d)
	}
	if sec.resumeTried > 0 {
		w("| resumed again, as a check | %d of %d resumed and ran `true` |\n", sec.resumed, sec.resumeTried)
	}
	w("| destroy all, %d at a time | %s |\n", destroyAtOnce, seconds1(sec.destroyTook))
	w("| MemAvailable after | %s (%s at start) |\n", gib(sec.availEnd), gib(sec.availStart))
	if len(sec.leaks) == 0 {
		w("| left behind | nothing (records, runsc containers and processes, network namespaces, cgroups, directories) |\n")
	} else {
		w("| left behind | **%s** |\n", oneLine(strings.Join(sec.leaks, "; ")))
	}
}

// densityMethod describes how the density numbers were taken.
func (r *report) densityMethod() string {
	c := r.cfg
	if c.densityMax == 0 {
		return ""
	}
	return fmt.Sprintf(`- **Density** (runtools only): the bench's runtools server with its defaults (2 vCPUs, 1024 MB, 2048 MB disk per sandbox; it has no limit on the number of sandboxes, per team or in all, and its subnet %[1]s has room for thousands; each sandbox takes a port of the server's bridge, and a Linux bridge takes at most %[10]d), template %[2]s, idle timeout 0 so the daemon pauses none by itself. `+"`client.Create`"+` runs %[3]d at a time; before each new one the bench reads MemAvailable from /proc/meminfo and stops when it is below %[4]d%% of MemTotal, when a create has failed, or at -density-max (%[5]d), then waits for those in flight. Untimed, every sandbox must then run `+"`true`"+`. Then %[6]s of idle: the CPU time the sandboxes' cgroups used over it (cpuacct, or cpu.stat on cgroup v2), the runtools server's (/proc/PID/stat, 10 ms ticks) and the host's busy share (/proc/stat, with the same before the first create); then the memory: MemAvailable again (*host* figure: its fall since the start over the number of sandboxes, which takes in everything they cost the host: gVisor's memory, page tables, the daemon's and the kernel's share, and whatever else the machine did meanwhile) and each sandbox's memory cgroup (%[7]s/ID, or the v2 equivalent), its usage less its inactive page cache, as the daemon's metrics count it (memory its processes share with others, such as the template's page cache, is charged to only one of them). Then `+"`client.Pause`"+` of all, %[3]d at a time, %[6]s of rest, MemAvailable again, and the disk of each paused sandbox: the blocks of its directory under the data directory (each inode once, like du), and of its pause image in it; the free space of the data directory's filesystem (statfs, blocks available) with all of them paused gives how many more it would keep. %[8]d of the paused ones are resumed and run `+"`true`"+` as a check. Then all are destroyed, %[9]d at a time (each also the host's neighbour entry, as elsewhere), and after %[6]s the bench checks, for every sandbox the section made, that the API lists none as not stopped and that no runsc container, process with its id on the command line, network namespace, cgroup or directory is left. Everything else on the machine shares its memory and CPUs, so the host figures move with whatever else ran.
`, c.subnet, c.template, c.densityBatch, c.densityFloor, c.densityMax, seconds(densityRest), cgroupMemoryRoot, densityResumes, destroyAtOnce, bridgePorts)
}

// serverMethod describes the runtools server of a run without the create
// and exec sections, whose method says it otherwise.
func (r *report) serverMethod() string {
	c := r.cfg
	return fmt.Sprintf("- **runtools**: the bench starts `bin/runtools server` with a temporary data directory, bridge `%s` and subnet %s, and uses it through the Go SDK; the template is %s (the root filesystem above), on gVisor's %s platform.\n",
		c.bridge, c.subnet, c.template, r.platform)
}

// bridgePorts is the most ports a Linux bridge takes (BR_MAX_PORTS).
const bridgePorts = 1024

// seconds1 formats a duration in seconds with one decimal.
func seconds1(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
