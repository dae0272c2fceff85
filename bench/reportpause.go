package main

import (
	"fmt"
	"slices"
	"strings"
)

// headlines are the operations the pause/resume and snapshot tables show
// first, in this order; every other phase goes into "where the time goes".
var headlines = []string{phPause, phCheckpoint, phFullStop, phResume, phRawResume, phSnapshot, phRollback, phFork}

// pauseMarkdown writes the pause/resume and snapshot sections.
func (r *report) pauseMarkdown(b *strings.Builder) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("\n### Pause and resume of a sandbox running a Node.js HTTP server (%d runs per system)\n\n", r.pause.runs)
	r.cycleTables(b, r.pause, true)
	if r.big.skipped != "" {
		w("\n### Pause and resume holding %d MiB more\n\nNot measured: %s.\n", r.big.holdMB, r.big.skipped)
	} else {
		w("\n### Pause and resume, the Node.js process holding %d MiB of random data more (%d runs per system)\n\n", r.big.holdMB, r.big.runs)
		r.cycleTables(b, r.big, true)
	}
	if r.snap.skipped != "" {
		w("\n### Snapshot, rollback and fork\n\nNot measured: %s.\n", r.snap.skipped)
		return
	}
	w("\n### Snapshot, rollback and fork of the running Node.js sandbox (runtools, %d runs)\n\n", r.snap.runs)
	r.cycleTables(b, r.snap, false)
}

// cycleTables writes a section's headline table, its image sizes and its
// phase table.
func (r *report) cycleTables(b *strings.Builder, sec cycleSection, bySystem bool) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("| system | operation | p50 | p99 | runs |\n|---|---|---:|---:|---:|\n")
	for _, h := range headlines {
		for _, res := range sec.results {
			if s, ok := res.phases.by[h]; ok && res.dropped == "" {
				w("| %s | %s | %s | %s | %d |\n", res.name, h, ms(s.p50()), ms(s.p99()), len(s))
			}
		}
	}
	for _, res := range sec.results {
		if res.dropped != "" {
			w("| %s | — | — | — | dropped: %s |\n", res.name, oneLine(res.dropped))
		}
	}
	var sizes []string
	for _, res := range sec.results {
		if n := sec.images[res.name]; n > 0 {
			sizes = append(sizes, fmt.Sprintf("%s %s", res.name, mib(n)))
		}
	}
	if len(sizes) > 0 {
		what := "Checkpoint image size (p50)"
		if !bySystem {
			what = "Snapshot size (p50)"
		}
		w("\n%s: %s.\n", what, strings.Join(sizes, "; "))
	}
	w("\nWhere the time goes (each phase's own p50 and p99; times told from file times have the kernel's coarse clock, a few ms):\n\n")
	w("| system | phase | p50 | p99 |\n|---|---|---:|---:|\n")
	for _, res := range sec.results {
		for _, name := range res.phases.names {
			if slices.Contains(headlines, name) {
				continue
			}
			s := res.phases.by[name]
			w("| %s | %s | %s | %s |\n", res.name, name, ms(s.p50()), ms(s.p99()))
		}
	}
}

// mib formats a byte count in MiB with one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
