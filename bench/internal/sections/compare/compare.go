// Package compare holds the two sections that compare runtools with raw
// runsc and with podman running runsc, on the same machine, root
// filesystem and gVisor platform: create to a first `true` exec, and the
// round trip of `true` in a warm sandbox.
package compare

import (
	"embed"

	"github.com/runtools/runtools/bench/internal/report"
)

// Config is what both sections are told.
type Config struct {
	Runs     int    // create-to-first-exec runs per system
	ExecRuns int    // warm exec runs per system
	Template string // the template every system runs
	// The runtools server's bridge and subnet, and the raw sandboxes'
	// bridge, for the method.
	Bridge, Subnet, RawBridge string
}

// The names of the systems only these sections compare, as the tables
// show them.
const (
	RawNone = "raw runsc, --network=none"
	Agent   = "agent /exec direct (no daemon)"
	Spawn   = "in-sandbox spawn (/debug/spawn)"
)

// Warm-up rounds, not counted.
const (
	createWarmup = 1
	execWarmup   = 5
)

//go:embed *.tmpl
var templates embed.FS

var tmpl = report.Parse(templates, "*.tmpl")

// leadView is what the method both sections share is told.
type leadView struct {
	Config
	Platform                 string
	CreateWarmup, ExecWarmup int
}

func lead(r *report.Renderer, cfg Config, platform string) string {
	return r.Do("lead.tmpl", leadView{cfg, platform, createWarmup, execWarmup})
}
