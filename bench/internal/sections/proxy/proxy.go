// Package proxy is the dev-server proxy section: the same Node.js server
// in a sandbox loaded directly and through the proxy, under load and one
// request at a time, and the wake of a paused sandbox by a request.
package proxy

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/sections/pause"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Seconds  int // of load per endpoint and load; 0 leaves the section out
	Conns    int // concurrent keep-alive connections of the load
	WakeRuns int // 0 leaves the wake runs out
	Template string
}

// Section is the dev-server proxy section.
type Section struct {
	Config Config
	// Pause is the pause section, whose runtools resume the wake runs
	// are compared with; it may not have run.
	Pause *pause.Section

	Load        []LoadResult // direct, proxy; Config.Conns connections
	Seq         []LoadResult // direct, proxy; one connection
	Wake        stats.PhaseSet
	Skipped     string // why it did not run, if it did not
	WakeSkipped string // why the wake runs did not run, if they did not
	Took        time.Duration
}

var _ section.Section = (*Section)(nil)

// The names of the endpoints and of what the wake comparison measures.
const (
	epDirect = "direct (sandbox address, port 3000)"
	epProxy  = "through the proxy (Host `3000-ID.sandboxes.localhost:PORT`)"
	phWake   = "paused, woken by a GET through the proxy: time to first byte"
	phAPIRes = "paused, `client.Resume`"
	phAPIGet = "paused, `client.Resume` then a direct GET: to first byte"
)

// loadWarmup is how long each endpoint gets load, uncounted, first.
const loadWarmup = 500 * time.Millisecond

// Name is "proxy".
func (s *Section) Name() string { return "proxy" }

// Run measures, unless -proxy-seconds=0 left the section out; a failure
// is reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	return section.Optional(ctx, "dev-server proxy", s.Config.Seconds == 0, "-proxy-seconds=0", &s.Skipped,
		func() error { return s.measure(ctx, env) })
}

// measure starts a sandbox running the Node.js server and compares its
// direct address with its dev-server URL. The sandbox is removed after,
// and by undo on failure.
func (s *Section) measure(ctx context.Context, env *section.Env) error {
	cfg, srv := s.Config, env.Server
	t := time.Now()
	sb, remove, err := startNodeSandbox(ctx, env, cfg.Template)
	if err != nil {
		return err
	}
	direct, proxied, err := endpoints(srv, sb)
	if err != nil {
		return err
	}
	d := time.Duration(cfg.Seconds) * time.Second
	if s.Load, err = compareLoad(ctx, srv.Pid(), direct, proxied, cfg.Conns, d); err != nil {
		return err
	}
	if s.Seq, err = compareLoad(ctx, srv.Pid(), direct, proxied, 1, d); err != nil {
		return err
	}
	if cfg.WakeRuns == 0 {
		s.WakeSkipped = "left out with -wake-runs=0"
	} else {
		w := &waker{s: srv, sb: sb, proxied: proxied}
		res, err := measure.Cycles(ctx, "proxy wake", []measure.Cycler{w.cycler()}, cfg.WakeRuns, 1)
		if err != nil {
			return err
		}
		if s.WakeSkipped = res[0].Dropped; s.WakeSkipped == "" {
			s.Wake = res[0].Phases
		}
	}
	s.Took = time.Since(t)
	return remove(ctx)
}

// startNodeSandbox creates a sandbox that never pauses by itself, starts
// the Node.js server in it and waits until it answers. Its removal is
// registered with undo and returned, safe to call twice.
func startNodeSandbox(ctx context.Context, env *section.Env, template string) (*client.Sandbox, func(context.Context) error, error) {
	const what = "the proxy's Node.js sandbox"
	fmt.Fprintln(os.Stderr, "starting "+what)
	sb, remove, err := env.Idle(ctx, template, what)
	if err != nil {
		return nil, nil, err
	}
	if _, err := env.Server.Client.Start(ctx, sb.ID, client.ExecRequest{Cmd: node.Args(0)}); err != nil {
		return nil, nil, fmt.Errorf("starting Node.js in %s: %w", sb.ID, err)
	}
	if _, err := node.Wait(ctx, sb.IP, 0, time.Minute); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", what, sb.ID, err)
	}
	return sb, remove, nil
}

// endpoints are the Node.js server's direct address and its dev-server
// URL as the API reported it, dialled at the proxy's loopback address with
// the URL's host and the sandbox's access token (its URLs are private, the
// default).
func endpoints(srv *server.Server, sb *client.Sandbox) (direct, proxied endpoint, err error) {
	direct = endpoint{name: epDirect, url: fmt.Sprintf("http://%s:%d/", sb.IP, node.Port)}
	for _, u := range sb.URLs {
		if u.Port != node.Port {
			continue
		}
		pu, err := url.Parse(u.URL)
		if err != nil {
			return direct, proxied, fmt.Errorf("the dev-server URL %q of %s: %w", u.URL, sb.ID, err)
		}
		proxied = endpoint{name: epProxy, url: "http://" + srv.ProxyAddr + "/", host: pu.Host, token: sb.AccessToken}
		return direct, proxied, nil
	}
	return direct, proxied, fmt.Errorf("sandbox %s has no dev-server URL for port %d: %v", sb.ID, node.Port, sb.URLs)
}

// compareLoad loads both endpoints with conns connections, each for d in
// two halves, in the order direct, proxy, proxy, direct, so that a drift
// in the machine's load falls on both alike; each first gets an uncounted
// warm-up. It returns the direct and the proxy result, with the CPU time
// of process pid, the runtools server, during each.
func compareLoad(ctx context.Context, pid int, direct, proxied endpoint, conns int, d time.Duration) ([]LoadResult, error) {
	out := []LoadResult{{Name: direct.name, Conns: conns}, {Name: proxied.name, Conns: conns}}
	eps := []endpoint{direct, proxied}
	for _, i := range []int{0, 1} {
		if _, err := load(ctx, eps[i], conns, loadWarmup, 1); err != nil {
			return out, fmt.Errorf("warming up: %w", err)
		}
	}
	for step, i := range []int{0, 1, 1, 0} {
		if err := measure.Settle(ctx); err != nil {
			return out, err
		}
		cpu0, err := host.ProcessCPU(pid)
		if err != nil {
			return out, err
		}
		r, err := load(ctx, eps[i], conns, d/2, 1)
		if err != nil {
			return out, err
		}
		cpu1, err := host.ProcessCPU(pid)
		if err != nil {
			return out, err
		}
		r.DaemonCPU = cpu1 - cpu0
		out[i].add(r)
		fmt.Fprintf(os.Stderr, "\rproxy load, %s: %d/4   ", connections(conns), step+1)
	}
	fmt.Fprintln(os.Stderr)
	return out, nil
}

// connections says "1 connection" or "N connections".
func connections(n int) string {
	if n == 1 {
		return "1 connection"
	}
	return fmt.Sprintf("%d connections", n)
}
