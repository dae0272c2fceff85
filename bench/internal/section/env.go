package section

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/podman"
	"github.com/runtools/runtools/bench/internal/raw"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// Env is what every section runs against.
type Env struct {
	Server  *server.Server
	Undo    *host.Undo
	Machine host.Machine
	// Warm is the long-lived runtools sandbox: the warm exec runs use it,
	// and the raw runsc sandboxes copy its OCI spec.
	Warm *client.Sandbox
	// Systems says how to make the systems runtools is compared with.
	Systems Systems

	leaks       []string
	raw         *raw.Runsc
	podman      *podman.Podman // nil once dropped
	podmanMade  *podman.Podman // for the cleanup checks, even if dropped
	podmanWhy   string
	podmanAsked bool
}

// Systems are the settings of the raw runsc and podman systems.
type Systems struct {
	Runsc     string
	Dir       string // the bench's temporary directory
	RawBridge string
	RawSubnet netip.Prefix
	Podman    bool   // false leaves podman out
	Rootfs    string // the template's root filesystem, which podman runs
}

// Raw returns the raw runsc harness, making it and its network on first
// use.
func (e *Env) Raw(ctx context.Context) (*raw.Runsc, error) {
	if e.raw != nil {
		return e.raw, nil
	}
	s := e.Systems
	n, err := raw.NewNet(ctx, s.RawBridge, s.RawSubnet)
	e.Undo.Push("remove the raw runsc network", func(ctx context.Context) error { return raw.RemoveNet(ctx, s.RawBridge) })
	if err != nil {
		return nil, err
	}
	r, err := raw.New(s.Runsc, filepath.Join(s.Dir, "raw"), e.Server.Platform, e.Server.BundleSpecPath(e.Warm.ID), s.Rootfs, n)
	if err != nil {
		return nil, err
	}
	e.Undo.Push("remove raw runsc sandboxes", r.Close)
	e.raw = r
	return r, nil
}

// Idle creates a sandbox of template that the daemon never pauses by
// itself, and returns it with its removal, which the cleanup stack runs
// too and which is safe to call twice. what names the sandbox in messages.
func (e *Env) Idle(ctx context.Context, template, what string) (*client.Sandbox, func(context.Context) error, error) {
	sb, err := e.Server.CreateIdle(ctx, template)
	if err != nil {
		return nil, nil, fmt.Errorf("creating %s: %w", what, err)
	}
	remove := host.Once(func(ctx context.Context) error { return e.Server.Destroy(ctx, sb) })
	e.Undo.Push("remove "+what+" "+sb.ID, remove)
	return sb, remove, nil
}

// Podman returns podman with runsc, making it on first use, or nil and
// why it is not compared.
func (e *Env) Podman(ctx context.Context) (*podman.Podman, string) {
	if e.podmanAsked {
		return e.podman, e.podmanWhy
	}
	e.podmanAsked = true
	if !e.Systems.Podman {
		e.podmanWhy = "left out with -podman=false"
		return nil, e.podmanWhy
	}
	s := e.Systems
	pm, err := podman.New(ctx, s.Runsc, e.Server.Platform, s.Rootfs, filepath.Base(s.Dir))
	if err != nil {
		e.podmanWhy = err.Error()
		return nil, e.podmanWhy
	}
	e.Undo.Push("remove podman containers", pm.Close)
	e.podman, e.podmanMade = pm, pm
	return pm, ""
}

// DropPodman leaves podman out of the sections still to run, and says why
// in the report.
func (e *Env) DropPodman(why string) { e.podman, e.podmanWhy = nil, why }

// PodmanUse says whether podman was compared, and why not if it was not.
// Its chain count is final only after the cleanup has run.
func (e *Env) PodmanUse() report.PodmanUse {
	u := report.PodmanUse{Compared: e.podmanAsked, Why: e.podmanWhy}
	if e.podmanMade != nil {
		u.Chains = e.podmanMade.Leaked
	}
	return u
}

// PodmanMade is podman, if it was made, for the cleanup checks.
func (e *Env) PodmanMade() *podman.Podman { return e.podmanMade }

// Leak records something a section left behind; the bench fails with it.
func (e *Env) Leak(what ...string) { e.leaks = append(e.leaks, what...) }

// Leaks is what the sections left behind.
func (e *Env) Leaks() []string { return e.leaks }
