package main

import (
	"fmt"
	"slices"
	"strings"
)

// The sections of the report, in the order the bench runs them; -only
// picks some of them by these names.
const (
	secCreate    = "create"    // create to first exec: runtools, raw runsc, podman
	secExec      = "exec"      // exec of `true` in a running sandbox
	secPause     = "pause"     // pause/resume (small and large), snapshot/rollback/fork
	secProxy     = "proxy"     // dev-server proxy and wake by request
	secSSH       = "ssh"       // SSH gateway and file transfers
	secDesktop   = "desktop"   // desktop sandboxes
	secTemplates = "templates" // custom templates: Dockerfile builds, creates against base
	secEvents    = "events"    // event stream latency and metrics cadence
	secDensity   = "density"   // idle sandboxes at once, paused ones kept
	secReuse     = "reuse"     // the address reuse check
)

var allSections = []string{secCreate, secExec, secPause, secProxy, secSSH, secDesktop, secTemplates, secEvents, secDensity, secReuse}

// sectionSet is the sections a run measures.
type sectionSet []string

// parseSections reads -only: a comma-separated list of section names, or
// "" for all of them.
func parseSections(s string) (sectionSet, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(allSections), nil
	}
	var set sectionSet
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(allSections, name) {
			return nil, fmt.Errorf("-only: unknown section %q (sections: %s)", name, strings.Join(allSections, ", "))
		}
		if !slices.Contains(set, name) {
			set = append(set, name)
		}
	}
	// In the order they run, whatever the order given.
	slices.SortFunc(set, func(a, b string) int { return slices.Index(allSections, a) - slices.Index(allSections, b) })
	return set, nil
}

func (s sectionSet) has(name string) bool { return slices.Contains(s, name) }

// partial reports whether some sections are left out.
func (s sectionSet) partial() bool { return len(s) < len(allSections) }

// needsRaw reports whether the raw runsc harness is needed.
func (s sectionSet) needsRaw() bool { return s.has(secCreate) || s.has(secExec) || s.has(secPause) }

// needsPodman reports whether podman is compared.
func (s sectionSet) needsPodman() bool { return s.has(secCreate) || s.has(secExec) }
