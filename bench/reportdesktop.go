package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// desktopFlags are the desktop flags of the run, for the report's first
// line.
func (r *report) desktopFlags() string {
	c := r.cfg
	return fmt.Sprintf("-desktop-runs %d -desktop-shot-runs %d -desktop-pause-runs %d", c.desktopRuns, c.desktopShotRuns, c.desktopPauseRuns)
}

// desktopHeadlines are the pause and resume operations shown first, in
// this order; every other phase goes into "where the time goes".
var desktopHeadlines = []string{phPause, phResume, phDeskUsable}

// desktopMarkdown writes the desktop section.
func (r *report) desktopMarkdown(b *strings.Builder) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	sec := r.desktop
	if sec.skipped != "" {
		w("\n### Desktop sandboxes\n\nNot measured: %s.\n", oneLine(sec.skipped))
		return
	}
	w("\n### Desktop sandboxes (runtools only, on gVisor's ptrace platform)\n\n")
	w("The section took %s. Template `%s`: %d vCPUs, %d MB (its default), screen %dx%d.\n\n",
		sec.took.Round(time.Second), desktopTemplate, sec.vcpus, sec.memoryMB, sec.screen.Width, sec.screen.Height)
	w("| operation | p50 | p99 | runs |\n|---|---:|---:|---:|\n")
	row := func(name string, s samples) { w("| %s | %s | %s | %d |\n", name, ms(s.p50()), ms(s.p99()), len(s)) }
	for _, name := range sec.create.names {
		row(name, sec.create.by[name])
	}
	if sec.shotSkipped == "" {
		row(fmt.Sprintf("screenshot (`Computer.Screenshot`, a PNG of %dx%d, before Firefox)", sec.screen.Width, sec.screen.Height), sec.shots)
	}
	if sec.shotSkipped != "" {
		w("\nScreenshots: not measured: %s.\n", oneLine(sec.shotSkipped))
	} else if len(sec.shotBytes) > 0 {
		w("\nScreenshot size: %s (p50; %s to %s).\n", kib(median(sec.shotBytes)), kib(slices.Min(sec.shotBytes)), kib(slices.Max(sec.shotBytes)))
	}
	if sec.pauseSkipped != "" {
		if sec.launch > 0 {
			w("\n`Computer.Launch(ctx, \"firefox\")` took %s.\n", ms(sec.launch))
		}
		w("\nPause and resume with Firefox open: not measured: %s.\n", oneLine(sec.pauseSkipped))
		return
	}
	w("\n#### Pause and resume with Firefox open (%d runs)\n\n", sec.pauseRuns)
	w("`Computer.Launch(ctx, \"firefox\")` returned after %s, with the window %q; the bench then waited %s before the first pause.\n\n",
		ms(sec.launch), sec.window, seconds(firefoxRest))
	w("| operation | p50 | p99 | runs |\n|---|---:|---:|---:|\n")
	for _, name := range desktopHeadlines {
		if s, ok := sec.cycle.by[name]; ok {
			row(name, s)
		}
	}
	w("\n")
	if len(sec.images) > 0 {
		w("Checkpoint image size (p50, from the daemon's log): %s. ", mib(median(sec.images)))
	}
	runs := len(sec.cycle.by[phResume])
	if sec.firefoxSeen == runs {
		w("Firefox's window was listed (`Computer.Windows`, a title with \"Firefox\") after every resume: %d of %d.\n", sec.firefoxSeen, runs)
	} else {
		w("**Firefox's window was missing after a resume**: listed after %d of %d; the first time without it the windows were %s.\n",
			sec.firefoxSeen, runs, oneLine(sec.firefoxMissing))
	}
	p, res := sec.cycle.by[phPause].p50(), sec.cycle.by[phResume].p50()
	w("\nFor reference, not measured in this run: the issue quotes a raw gVisor checkpoint of such a desktop at %s and its restore at %s (`runsc checkpoint` and `runsc restore` by hand, without the daemon, measured by an earlier session). This run's p50: pause %s (%.2fx that checkpoint), resume %s (%.2fx that restore).\n",
		ms(refRawCheckpoint), ms(refRawRestore), ms(p), ratio(p, refRawCheckpoint), ms(res), ratio(res, refRawRestore))
	w("\nWhere the time goes (each phase's own p50 and p99; times told from file times have the kernel's coarse clock, a few ms):\n\n")
	w("| phase | p50 | p99 |\n|---|---:|---:|\n")
	for _, name := range sec.cycle.names {
		if slices.Contains(desktopHeadlines, name) {
			continue
		}
		s := sec.cycle.by[name]
		w("| %s | %s | %s |\n", name, ms(s.p50()), ms(s.p99()))
	}
}

// desktopMethod describes how the desktop numbers were taken.
func (r *report) desktopMethod() string {
	c := r.cfg
	if c.desktopRuns == 0 {
		return ""
	}
	return fmt.Sprintf(`- **Desktop sandboxes** (runtools only): the daemon runs desktop sandboxes on gVisor's ptrace platform whatever its own platform (%[1]s here), because Firefox sets its GS base itself, which only ptrace keeps (see internal/sandbox/desktop.go); raw runsc and podman would not be the same comparison, so they are not run. A run is `+"`client.Create`"+` (template %[2]s, its defaults, idle timeout 0), timed from before Create until `+"`client.Get`"+`, called every %[3]s after Create has returned, reports `+"`vnc_ready`"+`; the daemon sets that when its probe (every 100 ms) finds the desktop's noVNC port %[4]d answering, so the figure has up to 150 ms of polling in it; the daemon's log line "desktop ready after=" gives its probe's own time from the sandbox running. Runs follow each other after the settle gap, each sandbox destroyed untimed before the next, no warm-up; %[5]d runs. The last sandbox stays for the rest. *Screenshots*: `+"`Computer.Screenshot`"+` (scrot in the sandbox, through the API and the agent; the whole PNG read and checked), 1 uncounted and %[6]d counted, each after the settle gap, on the desktop before any app is open. *Firefox*: `+"`Computer.Launch(ctx, \"firefox\")`"+`, timed until it returns, which the daemon does once a new window is listed (it polls wmctrl every 200 ms); then %[7]s of rest. *Pause and resume*: %[8]d rounds of `+"`Sandbox.Pause`"+`, timed until it returns with the sandbox paused, then, after the settle gap, `+"`Sandbox.Resume`"+`, timed until it returns with it running, then `+"`Computer.Screenshot`"+` every %[3]s until one succeeds: *resume to usable* runs from before Resume until that screenshot. Untimed after each resume, `+"`Computer.Windows`"+` must list a window whose title has "Firefox". The parts of a pause and a resume, and the image size, are told as in the pause section (image file times, the bundle's and runsc's state file times, the daemon's log lines). The raw checkpoint and restore figures quoted are the issue's (%[9]s and %[10]s), measured by hand by an earlier session, not by this bench.
`, r.platform, desktopTemplate, desktopPoll, desktopPort, c.desktopRuns, c.desktopShotRuns, seconds(firefoxRest), c.desktopPauseRuns, ms(refRawCheckpoint), ms(refRawRestore))
}

// seconds formats a whole number of seconds, such as "3 s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.0f s", d.Seconds()) }

// kib formats a byte count in KiB with no decimals.
func kib(n int64) string { return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10)) }
