package main

import (
	"fmt"
	"strings"
	"time"
)

// report is everything BENCHMARKS.md says.
type report struct {
	cfg           config
	date          time.Time
	machine       machine
	platform      string
	rootfs        string
	podmanWhy     string // why podman is not in the results, if it is not
	create, exec  []*result
	reuse         reuseCheck
	pause, big    cycleSection // pause/resume, with the small and the large Node.js process
	snap          cycleSection // snapshot, rollback and fork
	proxy         proxySection
	ssh           sshSection
	desktop       desktopSection
	templates     templatesSection
	events        eventsSection
	density       densitySection
	pauseTook     time.Duration
	bigTook       time.Duration
	templateCheck string
	cniChains     int
	leaks         []string
	elapsed       time.Duration
	load          [2]string // 1-minute load average at start and end
}

// find returns the result named name, or nil if it is missing or dropped.
func find(rs []*result, name string) *result {
	for _, r := range rs {
		if r.name == name && r.dropped == "" && len(r.s) > 0 {
			return r
		}
	}
	return nil
}

// target is one goal checked against the numbers.
type target struct {
	goal, measured, verdict string
}

func (r *report) targets() []target {
	var ts []target
	rtE, spawn, rawE := find(r.exec, nameRuntools), find(r.exec, nameSpawn), find(r.exec, nameRawNet)
	if rtE != nil && spawn != nil {
		limit := spawn.s.p50() + 3*time.Millisecond
		ts = append(ts, target{"runtools exec p50 <= in-sandbox spawn p50 + 3 ms",
			fmt.Sprintf("%s vs %s + 3 ms = %s", ms(rtE.s.p50()), ms(spawn.s.p50()), ms(limit)), verdict(rtE.s.p50() <= limit)})
	}
	if rtE != nil && rawE != nil {
		x := ratio(rawE.s.p50(), rtE.s.p50())
		ts = append(ts, target{"runtools exec p50 >= 2.5x faster than `runsc exec` p50",
			fmt.Sprintf("%s vs %s: %.2fx faster", ms(rtE.s.p50()), ms(rawE.s.p50()), x), verdict(x >= 2.5)})
	}
	rtC, rawC, podC := find(r.create, nameRuntools), find(r.create, nameRawNet), find(r.create, namePodman)
	if rtC != nil && rawC != nil {
		x := ratio(rtC.s.p50(), rawC.s.p50())
		ts = append(ts, target{"runtools create-to-first-exec p50 within 1.5x of raw runsc (+ netns)",
			fmt.Sprintf("%s vs %s: %.2fx", ms(rtC.s.p50()), ms(rawC.s.p50()), x), verdict(x <= 1.5)})
	}
	goal := "runtools create-to-first-exec p50 faster than podman + runsc"
	switch {
	case !r.cfg.only.has(secCreate):
	case rtC != nil && podC != nil:
		ts = append(ts, target{goal, fmt.Sprintf("%s vs %s: %.2fx faster", ms(rtC.s.p50()), ms(podC.s.p50()),
			ratio(podC.s.p50(), rtC.s.p50())), verdict(rtC.s.p50() < podC.s.p50())})
	default:
		ts = append(ts, target{goal, "podman did not run: " + r.podmanWhy, "N/A"})
	}
	if r.cfg.only.has(secPause) {
		ts = append(ts, r.pauseTargets()...)
	}
	if r.cfg.only.has(secProxy) {
		ts = append(ts, r.proxyTargets()...)
	}
	if r.cfg.only.has(secEvents) {
		ts = append(ts, r.eventsTargets()...)
	}
	if c := r.templates.create; r.cfg.only.has(secTemplates) && len(c) == 2 && len(c[0].s) > 0 && len(c[1].s) > 0 {
		x := ratio(c[0].s.p50(), c[1].s.p50())
		ts = append(ts, target{"create-to-first-exec from a custom template p50 within 10% of base's, same run",
			fmt.Sprintf("%s vs %s: %.2fx", ms(c[0].s.p50()), ms(c[1].s.p50()), x), verdict(x <= 1.1)})
	}
	if r.reuse.verdict != "" {
		ts = append(ts, target{"(extra check) a new sandbox given a just-freed address is reachable without help",
			r.reuse.detail, r.reuse.verdict})
	}
	return ts
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.machine
	only := r.cfg.only
	w("# runtools benchmarks\n\n")
	cmd := fmt.Sprintf("`go run ./bench -runs %d -exec-runs %d -pause-runs %d -snapshot-runs %d -big-runs %d -big-mb %d %s %s %s%s`",
		r.cfg.runs, r.cfg.execRuns, r.cfg.pauseRuns, r.cfg.snapRuns, r.cfg.bigRuns, r.cfg.bigMB,
		r.accessFlags(), r.desktopFlags(), r.densityFlags(), r.onlyFlag())
	if only.partial() {
		w("Measured %s by %s, commit `%s`; the bench took %s.\n\n", r.date.Format("2006-01-02 15:04 UTC"), cmd, m.Commit, r.elapsed.Round(time.Second))
		w("**A partial run**: only the sections %s; the others were left out with `-only`.\n\n", strings.Join(only, ", "))
	} else {
		w("Measured %s by `make bench` (%s), commit `%s`; the bench took %s.\n\n", r.date.Format("2006-01-02 15:04 UTC"), cmd, m.Commit, r.elapsed.Round(time.Second))
	}

	w("## Machine\n\n| | |\n|---|---|\n")
	w("| kernel | %s |\n| CPU | %s, %d cores |\n| memory | %.1f GiB |\n", m.Kernel, m.CPU, m.Cores, m.MemoryGB)
	w("| gVisor platform | %s (the runtools server's pick; every system used it) |\n", r.platform)
	w("| runsc | %s |\n| podman | %s |\n| Go | %s |\n", m.Runsc, m.Podman, m.Go)
	w("| template | `%s` (%s) |\n", r.cfg.template, r.rootfs)
	w("| load average (1 min) | %s at start, %s at end |\n\n", r.load[0], r.load[1])

	w("## Results\n")
	if only.has(secCreate) {
		w("\n### Create to first exec (%d runs per system)\n\n", r.cfg.runs)
		r.table(&b, r.create)
		w("\nWhere the time goes (each phase's own p50 and p99, so they need not add up to the total's):\n\n")
		w("| system | phase | p50 | p99 |\n|---|---|---:|---:|\n")
		for _, res := range r.create {
			for _, name := range res.phases.names {
				s := res.phases.by[name]
				w("| %s | %s | %s | %s |\n", res.name, name, ms(s.p50()), ms(s.p99()))
			}
			if len(res.teardown) > 0 {
				w("| %s | (teardown, not in the total) | %s | %s |\n", res.name, ms(res.teardown.p50()), ms(res.teardown.p99()))
			}
		}
	}
	if only.has(secExec) {
		w("\n### Exec of `true` in a running sandbox (%d runs per system)\n\n", r.cfg.execRuns)
		r.table(&b, r.exec)
	}
	if only.has(secPause) {
		r.pauseMarkdown(&b)
	}
	if only.has(secProxy) {
		r.proxyMarkdown(&b)
	}
	if only.has(secSSH) {
		r.sshMarkdown(&b)
	}
	if only.has(secDesktop) {
		r.desktopMarkdown(&b)
	}
	if only.has(secTemplates) {
		r.templatesMarkdown(&b)
	}
	if only.has(secEvents) {
		r.eventsMarkdown(&b)
	}
	if only.has(secDensity) {
		r.densityMarkdown(&b)
	}

	if ts := r.targets(); len(ts) > 0 {
		w("\n## Targets\n\n| target | measured | result |\n|---|---|---|\n")
		for _, t := range ts {
			w("| %s | %s | **%s** |\n", t.goal, t.measured, t.verdict)
		}
	}
	w("\n## Method\n\n")
	if only.has(secCreate) || only.has(secExec) {
		w("%s", r.method())
	} else {
		w("%s", r.serverMethod())
	}
	if only.has(secPause) {
		w("%s", r.pauseMethod())
	}
	if only.has(secProxy) || only.has(secSSH) {
		w("%s", r.accessMethod())
	}
	if only.has(secDesktop) {
		w("%s", r.desktopMethod())
	}
	if only.has(secTemplates) {
		w("%s", r.templatesMethod())
	}
	if only.has(secEvents) {
		w("%s", r.eventsMethod())
	}
	if only.has(secDensity) {
		w("%s", r.densityMethod())
	}
	w("%s\n## Notes\n\n", cleanupMethod)
	for _, n := range r.notes() {
		w("- %s\n", n)
	}
	return b.String()
}

// onlyFlag is the -only flag of a partial run, for the report's first
// line.
func (r *report) onlyFlag() string {
	if !r.cfg.only.partial() {
		return ""
	}
	return " -only " + strings.Join(r.cfg.only, ",")
}

func (r *report) table(b *strings.Builder, rs []*result) {
	fmt.Fprintf(b, "| system | p50 | p99 | runs |\n|---|---:|---:|---:|\n")
	for _, res := range rs {
		if res.dropped != "" {
			fmt.Fprintf(b, "| %s | — | — | dropped: %s |\n", res.name, oneLine(res.dropped))
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d |\n", res.name, ms(res.s.p50()), ms(res.s.p99()), len(res.s))
	}
	if r.podmanWhy != "" && find(rs, namePodman) == nil && !hasResult(rs, namePodman) {
		fmt.Fprintf(b, "| %s | — | — | did not run: %s |\n", namePodman, oneLine(r.podmanWhy))
	}
}

func hasResult(rs []*result, name string) bool {
	for _, r := range rs {
		if r.name == name {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
