package main

import (
	"fmt"
	"strings"
)

func (r *report) templatesMarkdown(b *strings.Builder) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	sec := r.templates
	w("\n### Custom templates from a Dockerfile\n\n")
	if sec.skipped != "" {
		w("Not measured: %s.\n", sec.skipped)
		return
	}
	w("| build | time |\n|---|---|\n")
	w("| cold (`--no-cache`), %d steps | %s |\n", sec.steps, seconds(sec.cold))
	w("| after changing one file of the last COPY (%d of %d steps from the cache) | %s |\n", sec.cachedSteps, sec.steps, ms(sec.cached))
	w("| import of an image archive (docker save format, %d random layers) | %s for %s: %.1f MB/s |\n", importLayers,
		seconds(sec.imported), kib(sec.archiveBytes), float64(sec.archiveBytes)/1e6/sec.imported.Seconds())
	w("\nThe template's own layers take %s. Create to first exec, alternating, %d runs each:\n\n", kib(sec.size), r.cfg.runs)
	r.table(b, sec.create)
	if len(sec.create) == 2 && len(sec.create[0].s) > 0 && len(sec.create[1].s) > 0 {
		custom, base := sec.create[0].s.p50(), sec.create[1].s.p50()
		w("\nCustom against base at p50: %.2fx.\n", float64(custom)/float64(base))
	}
}

func (r *report) templatesMethod() string {
	return "**Custom templates.** The bench builds a small Node.js app (a Debian package with apt-get, a global npm tool, " +
		"`npm install` of one dependency, the code) from a Dockerfile, once with `--no-cache` and once after changing one " +
		"file of its last COPY, imports an image archive of random (incompressible) layers written with go-containerregistry, " +
		"timed from the upload's start until the template is ready, then creates sandboxes from it and from `base`, alternating, and runs `true` in each. " +
		"Its steps reach Debian's mirror and npm through the sandboxes' NAT, so the cold build's time follows the network.\n\n"
}
