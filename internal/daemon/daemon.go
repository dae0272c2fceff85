// Package daemon wires runtools' parts together and runs the server: it
// reads nothing itself but its Config, builds the store, templates,
// network, runtime and sandbox manager, recovers state left by a previous
// run, and serves the API until its context ends.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/runtools/runtools/internal/apiserver"
	"github.com/runtools/runtools/internal/dashboard"
	"github.com/runtools/runtools/internal/metrics"
	"github.com/runtools/runtools/internal/runtime/gvisor"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/template"
	"github.com/runtools/runtools/internal/webhook"
)

// Run serves until ctx is done. Sandboxes keep running when it returns;
// the next Run adopts them.
func Run(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	cfg.setDefaults()
	tuneGC()
	if err := prepareDataDir(cfg); err != nil {
		return err
	}
	st, release, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	defer release()
	if err := bootstrap(ctx, cfg, st, out); err != nil {
		return err
	}
	tpl, err := template.New(template.Config{Dir: cfg.TemplateDir,
		Dockerfile: DockerfileBuilder{TemplateDir: cfg.TemplateDir, Runsc: cfg.Runsc, Log: log}}, log)
	if err != nil {
		return err
	}
	netw, releaseBridge, err := startNetwork(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	defer releaseBridge()
	// Reaping goes on until Run returns, past ctx: a runsc delete still in
	// flight at shutdown waits for its sandbox's process to be reaped.
	reapCtx, stopReaping := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReaping()
	if err := gvisor.AdoptOrphans(reapCtx); err != nil {
		log.Warn("cannot become the reaper of runsc's processes; destroying sandboxes will be slower", "err", err)
	}
	rt, err := gvisor.New(ctx, gvisor.Config{Runsc: cfg.Runsc, Root: cfg.path("runsc"), Platform: cfg.Platform, Debug: cfg.Debug}, log)
	if err != nil {
		return err
	}
	mgr, builder, layers, err := newManager(cfg, st, rt, netw, tpl, log)
	if err != nil {
		return err
	}
	book := newQuotas(cfg, st, mgr)
	met := newMetrics(st, quotaSource{st, book}, log)
	mgr.SetObserver(met)
	if err := mgr.Recover(ctx); err != nil {
		return fmt.Errorf("recovering sandboxes: %w", err)
	}
	defer mgr.Shutdown()
	if err := cleanBuilds(ctx, mgr, builder, layers, log); err != nil {
		return fmt.Errorf("cleaning up after interrupted template builds: %w", err)
	}
	go pruneTemplates(ctx, mgr, builder, cfg.path("sandboxes"), log)
	res, err := startResolver(netw, mgr, log)
	if err != nil {
		return err
	}
	defer res.Close()
	go mgr.RunIdle(ctx)
	go webhook.New(webhook.Config{FirstRetry: cfg.Webhooks.FirstRetry, Timeout: cfg.Webhooks.Timeout, Guard: webhookGuard(cfg)}, st, log).Run(ctx)
	if cfg.BuildOnStart {
		go buildMissing(ctx, tpl, log)
	}
	api, err := frontDoors(ctx, cfg, mgr, st, tpl, met, meteredBuilds{builder, book, mgr}, log)
	if err != nil {
		return err
	}
	api.SetQuotas(book)
	return serveAPI(ctx, cfg.Listen, api.Handler(), log, "data_dir", cfg.DataDir, "platform", rt.Platform())
}

// frontDoors starts the dev-server proxy and the SSH gateway, joins the
// cluster, and returns the API server for them.
func frontDoors(ctx context.Context, cfg Config, mgr *sandbox.Manager, st *store.Store, tpl *template.Manager, met *metrics.Metrics, builder apiserver.CustomTemplates, log *slog.Logger) (*apiserver.Server, error) {
	var urls apiserver.URLs
	if cfg.Proxy.Listen != "" {
		px, err := startProxy(ctx, cfg, mgr, st, met.Proxy(), log)
		if err != nil {
			return nil, err
		}
		urls = px
	}
	api := newAPI(cfg, mgr, st, tpl, urls, met, builder, log)
	nd, err := joinCluster(ctx, cfg, st, tpl, mgr, log)
	if err != nil {
		return nil, err
	}
	api.SetCluster(nd)
	if err := useObjectStore(ctx, cfg, mgr, st, api, log); err != nil {
		return nil, err
	}
	if cfg.SSH.Listen != "" {
		host, port, hostKey, err := startSSH(ctx, cfg, mgr, st, met.SSH(), log)
		if err != nil {
			return nil, err
		}
		api.SetSSH(st, host, port, hostKey)
		log.Info("SSH gateway ready", "listen", cfg.SSH.Listen, "connect", fmt.Sprintf("ssh SANDBOX-ID@%s -p %d", host, port))
	}
	return api, nil
}

// webhookGuard says where webhooks may be delivered: never to the
// sandboxes' subnet (that would reach another team's sandbox past its
// proxy), link-local or metadata addresses; loopback and private ones as
// configured.
func webhookGuard(cfg Config) webhook.Guard {
	g := webhook.Guard{AllowPrivate: cfg.Webhooks.AllowPrivate}
	if cfg.Subnet.IsValid() {
		g.Deny = append(g.Deny, cfg.Subnet.Masked())
	}
	return g
}

// tuneGC: the daemon's heap is small (tens of MB) and its allocation rate,
// under proxied traffic, high: collect less often than the default 100%,
// unless GOGC says otherwise.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// openStore opens the records: in PostgreSQL with --cluster, where this
// server then holds its node's name for itself, else in SQLite in the
// data directory. The sandboxes recorded before nodes existed become this
// node's; on a single host, every one is.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (st *store.Store, release func(), err error) {
	if cfg.Cluster == "" {
		if st, err = store.Open(ctx, cfg.path("runtools.db")); err != nil {
			return nil, nil, err
		}
		return st, func() {}, adopt(ctx, st, cfg)
	}
	if st, err = store.OpenPostgres(ctx, cfg.Cluster); err != nil {
		return nil, nil, fmt.Errorf("opening the cluster database: %w", err)
	}
	if release, err = st.LockNode(ctx, cfg.Node.Name); err != nil {
		st.Close()
		return nil, nil, err
	}
	if err := adopt(ctx, st, cfg); err != nil {
		release()
		st.Close()
		return nil, nil, err
	}
	log.Info("records are in the cluster database (PostgreSQL)", "node", cfg.Node.Name)
	return st, release, nil
}

func adopt(ctx context.Context, st *store.Store, cfg Config) error {
	return st.AdoptSandboxes(ctx, cfg.Node.Name, cfg.Cluster == "")
}

// newAPI makes the API server, with metrics, the dashboard and custom
// templates.
func newAPI(cfg Config, mgr *sandbox.Manager, st *store.Store, tpl *template.Manager, urls apiserver.URLs, met *metrics.Metrics, builder apiserver.CustomTemplates, log *slog.Logger) *apiserver.Server {
	api := apiserver.New(log, mgr, st, tpl, urls)
	api.SetMetrics(met.Handler())
	api.SetVolumes(mgr)
	api.SetDashboard(dashboard.Handler(), dashboard.Owns)
	api.SetWebhooks(st, webhookGuard(cfg))
	api.SetCustomTemplates(builder, cfg.path("tmp"), apiserver.BuildLimits{ContextBytes: int64(cfg.Build.MaxContextMB) << 20, ImageBytes: int64(cfg.Build.MaxImageMB) << 20})
	return api
}

// serveAPI serves the API at addr until ctx ends, then gives requests in
// flight 5 s; sandboxes keep running. ready is logged once it listens.
func serveAPI(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready ...any) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("runtools server ready", append([]any{"api", "http://" + ln.Addr().String()}, ready...)...)
	select {
	case err := <-errc:
		return fmt.Errorf("API server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down; sandboxes keep running and are adopted at the next start")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	return nil
}

// buildMissing builds templates that are not built yet, logging progress.
func buildMissing(ctx context.Context, tpl *template.Manager, log *slog.Logger) {
	infos, err := tpl.List(ctx)
	if err != nil {
		log.Warn("listing templates", "err", err)
		return
	}
	for _, info := range infos {
		if info.Status == "ready" {
			continue
		}
		log.Info("building template in the background", "template", info.Name)
		_, err := tpl.Build(ctx, info.Name, func(p template.Progress) {
			log.Info("template build", "template", p.Template, "step", p.Step, "detail", p.Detail, "elapsed", p.Elapsed.Round(time.Second))
		})
		if err != nil {
			log.Error("template build failed", "template", info.Name, "err", err)
		}
	}
}

// runtimeAdapter converts between the sandbox package's types and the
// gvisor package's identical ones.
type runtimeAdapter struct{ *gvisor.Runtime }

func (a runtimeAdapter) Start(ctx context.Context, s sandbox.RunSpec) error {
	return a.Runtime.Start(ctx, gvisor.Spec(s))
}

func (a runtimeAdapter) Wait(ctx context.Context, id string) (sandbox.Exit, error) {
	e, err := a.Runtime.Wait(ctx, id)
	return sandbox.Exit(e), err
}

func (a runtimeAdapter) Restore(ctx context.Context, s sandbox.RunSpec, from, image string) error {
	return a.Runtime.Restore(ctx, gvisor.Spec(s), from, image)
}

var (
	_ sandbox.Runtime       = runtimeAdapter{}
	_ sandbox.Checkpointer  = runtimeAdapter{}
	_ sandbox.Meter         = runtimeAdapter{}
	_ sandbox.UsageMeter    = runtimeAdapter{}
	_ sandbox.LimitMeter    = runtimeAdapter{}
	_ sandbox.ThrottleMeter = runtimeAdapter{}
)

// prepareDataDir checks the daemon runs as root and makes its directories,
// emptying tmp: it holds the inputs of builds under way, and none is at a
// start, even after a crash.
func prepareDataDir(cfg Config) error {
	if os.Geteuid() != 0 {
		return errors.New("runtools server must run as root: it creates network namespaces and gVisor sandboxes")
	}
	if err := os.RemoveAll(cfg.path("tmp")); err != nil {
		return fmt.Errorf("clearing %s: %w", cfg.path("tmp"), err)
	}
	for _, d := range []string{cfg.DataDir, cfg.path("sandboxes"), cfg.path("runsc"), cfg.path("tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	return nil
}
