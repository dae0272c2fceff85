package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/runtools/runtools/client"
)

// proxySection is what the dev-server proxy comparison measured: the same
// Node.js server hit directly and through the proxy, under load and one
// request at a time, and the wake of a paused sandbox by a request.
type proxySection struct {
	conns    int
	seconds  int          // per endpoint and load
	load     []loadResult // direct, proxy; conns connections
	seq      []loadResult // direct, proxy; one connection
	wakeRuns int
	wake     phaseSet
	skipped  string // why it did not run, if it did not
	// why the wake runs did not run, if they did not
	wakeSkipped string
	took        time.Duration
}

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

// measureProxy starts a sandbox running the Node.js server and compares
// its direct address with its dev-server URL. The sandbox is removed
// after, and by undo on failure.
func measureProxy(ctx context.Context, undo *undoStack, srv *server, cfg config) (proxySection, error) {
	sec := proxySection{conns: cfg.proxyConns, seconds: cfg.proxySeconds, wakeRuns: cfg.wakeRuns}
	if cfg.proxySeconds == 0 {
		sec.skipped = "left out with -proxy-seconds=0"
		return sec, nil
	}
	t := time.Now()
	fmt.Fprintln(os.Stderr, "starting the Node.js sandbox for the proxy")
	sb, remove, err := startNodeSandbox(ctx, undo, srv, cfg.template, "the proxy's Node.js sandbox")
	if err != nil {
		return sec, err
	}
	direct, proxied, err := endpoints(srv, sb)
	if err != nil {
		return sec, err
	}
	d := time.Duration(cfg.proxySeconds) * time.Second
	if sec.load, err = compareLoad(ctx, srv.cmd.Process.Pid, direct, proxied, cfg.proxyConns, d); err != nil {
		return sec, err
	}
	if sec.seq, err = compareLoad(ctx, srv.cmd.Process.Pid, direct, proxied, 1, d); err != nil {
		return sec, err
	}
	if cfg.wakeRuns == 0 {
		sec.wakeSkipped = "left out with -wake-runs=0"
	} else {
		w := &waker{s: srv, sb: sb, proxied: proxied}
		res, err := measureCycles(ctx, "proxy wake", []cycler{w.cycler()}, cfg.wakeRuns, 1)
		if err != nil {
			return sec, err
		}
		if sec.wakeSkipped = res[0].dropped; sec.wakeSkipped == "" {
			sec.wake = res[0].phases
		}
	}
	sec.took = time.Since(t)
	return sec, remove(ctx)
}

// startNodeSandbox creates a sandbox that never pauses by itself, starts
// the Node.js server in it and waits until it answers. Its removal is
// registered with undo and returned, safe to call twice.
func startNodeSandbox(ctx context.Context, undo *undoStack, srv *server, template, what string) (*client.Sandbox, func(context.Context) error, error) {
	zero := 0
	sb, err := srv.c.Create(ctx, client.CreateRequest{Template: template, IdleTimeout: &zero})
	if err != nil {
		return nil, nil, fmt.Errorf("creating %s: %w", what, err)
	}
	remove := removeOnce(func(ctx context.Context) error { return srv.destroy(ctx, sb) })
	undo.push("remove "+what+" "+sb.ID, remove)
	if _, err := srv.c.Start(ctx, sb.ID, client.ExecRequest{Cmd: nodeArgs(0)}); err != nil {
		return nil, nil, fmt.Errorf("starting Node.js in %s: %w", sb.ID, err)
	}
	if _, err := waitNode(ctx, sb.IP, 0, time.Minute); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", what, sb.ID, err)
	}
	return sb, remove, nil
}

// endpoints are the Node.js server's direct address and its dev-server
// URL as the API reported it, dialled at the proxy's loopback address with
// the URL's host and the sandbox's access token (its URLs are private, the
// default).
func endpoints(srv *server, sb *client.Sandbox) (direct, proxied endpoint, err error) {
	direct = endpoint{name: epDirect, url: fmt.Sprintf("http://%s:%d/", sb.IP, nodePort)}
	for _, u := range sb.URLs {
		if u.Port != nodePort {
			continue
		}
		pu, err := url.Parse(u.URL)
		if err != nil {
			return direct, proxied, fmt.Errorf("the dev-server URL %q of %s: %w", u.URL, sb.ID, err)
		}
		proxied = endpoint{name: epProxy, url: "http://" + srv.proxyAddr + "/", host: pu.Host, token: sb.AccessToken}
		return direct, proxied, nil
	}
	return direct, proxied, fmt.Errorf("sandbox %s has no dev-server URL for port %d: %v", sb.ID, nodePort, sb.URLs)
}

// compareLoad loads both endpoints with conns connections, each for d in
// two halves, in the order direct, proxy, proxy, direct, so that a drift
// in the machine's load falls on both alike; each first gets an uncounted
// warm-up. It returns the direct and the proxy result, with the CPU time
// of process pid, the runtools server, during each.
func compareLoad(ctx context.Context, pid int, direct, proxied endpoint, conns int, d time.Duration) ([]loadResult, error) {
	out := []loadResult{{name: direct.name, conns: conns}, {name: proxied.name, conns: conns}}
	eps := []endpoint{direct, proxied}
	for _, i := range []int{0, 1} {
		if _, err := load(ctx, eps[i], conns, loadWarmup, 1); err != nil {
			return out, fmt.Errorf("warming up: %w", err)
		}
	}
	for step, i := range []int{0, 1, 1, 0} {
		if err := settle(ctx); err != nil {
			return out, err
		}
		cpu0, err := processCPU(pid)
		if err != nil {
			return out, err
		}
		r, err := load(ctx, eps[i], conns, d/2, 1)
		if err != nil {
			return out, err
		}
		cpu1, err := processCPU(pid)
		if err != nil {
			return out, err
		}
		r.daemonCPU = cpu1 - cpu0
		out[i].add(r)
		fmt.Fprintf(os.Stderr, "\rproxy load, %s: %d/4   ", connections(conns), step+1)
	}
	fmt.Fprintln(os.Stderr)
	return out, nil
}
