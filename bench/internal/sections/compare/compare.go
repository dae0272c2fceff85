// Package compare holds the two sections that compare runtools with raw
// runsc and with podman running runsc, on the same machine, root
// filesystem and gVisor platform: create to a first `true` exec, and the
// round trip of `true` in a warm sandbox.
package compare

import (
	"context"
	"embed"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/podman"
	"github.com/runtools/runtools/bench/internal/raw"
	"github.com/runtools/runtools/bench/internal/section"
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

// Create measures create to first exec: runtools, raw runsc with and
// without a network, and podman.
type Create struct {
	Config Config
	Comparison
}

// Exec measures the round trip of `true` in a running sandbox: runtools
// through the SDK and straight to its agent, `runsc exec`, the agent's own
// in-sandbox spawn, and `podman exec`.
type Exec struct {
	Config Config
	Comparison
}

var (
	_ section.Section = (*Create)(nil)
	_ section.Section = (*Exec)(nil)
)

// Name is "create".
func (s *Create) Name() string { return "create" }

// Name is "exec".
func (s *Exec) Name() string { return "exec" }

// Run measures each system round-robin. If podman fails, it is dropped,
// with why, here and for the sections after.
func (s *Create) Run(ctx context.Context, env *section.Env) error {
	return s.run(ctx, env, s.measure)
}

// Run starts a long-lived sandbox for each system besides the bench's
// warm runtools one, and measures them round-robin.
func (s *Exec) Run(ctx context.Context, env *section.Env) error {
	return s.run(ctx, env, s.measure)
}

// Comparison is what a section comparing the systems measured.
type Comparison struct {
	Results   []*measure.Result // by system
	PodmanWhy string            // why podman is not in the results, if it is not
	Platform  string            // the gVisor platform every system used
}

// systems are what runtools is compared with.
type systems struct {
	raw    *raw.Runsc
	podman *podman.Podman // nil if podman is not compared
}

// run measures with measureWith, given the systems, and keeps its
// results, why podman is not among them, and the platform.
func (c *Comparison) run(ctx context.Context, env *section.Env,
	measureWith func(context.Context, *section.Env, systems) ([]*measure.Result, error)) error {
	rw, err := env.Raw(ctx)
	if err != nil {
		return err
	}
	pm, _ := env.Podman(ctx)
	if c.Results, err = measureWith(ctx, env, systems{rw, pm}); err != nil {
		return err
	}
	_, c.PodmanWhy = env.Podman(ctx)
	c.Platform = env.Server.Platform
	return nil
}

// Each section's templates: those in its folder, and the method's lead,
// which both give.
var (
	//go:embed lead.tmpl create
	createTemplates embed.FS
	//go:embed lead.tmpl exec
	execTemplates embed.FS
)

// leadView is what the method both sections share is told.
type leadView struct {
	Config
	Platform                 string
	CreateWarmup, ExecWarmup int
}

func lead(cfg Config, platform string) leadView {
	return leadView{cfg, platform, createWarmup, execWarmup}
}
