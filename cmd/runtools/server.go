package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/runtools/runtools/internal/daemon"
	"github.com/runtools/runtools/internal/template"
)

const serverLong = `Run the runtools daemon: the HTTP API, and the gVisor sandboxes it manages.

It needs root (network namespaces, gVisor), the pinned runsc build and the
packages that "make setup" installs. State lives in --data-dir: the SQLite
database, each sandbox's files, and runsc's state.

With --cluster postgres://..., the records (teams, keys, sandboxes, events,
snapshots, templates) live in that PostgreSQL database instead, migrated at
start, and each server on it is a node of one cluster: any node's API
serves every sandbox (a request for one another node runs is forwarded to
it), and creates go to the least loaded node that holds the template. Give
each node a stable --node-name and an --advertise address the others
reach. Give the password in PGPASSWORD or ~/.pgpass rather than in the
URL, which other users of the host can see.

At the first start, RUNTOOLS_API_KEY (if set) becomes the admin key;
otherwise a key is generated, printed once, and stored in DATA_DIR/admin-key.

Sandboxes keep running when the server stops or crashes; the next start
adopts them, and cleans up whatever an interrupted operation left behind.`

func serverCommand() *cobra.Command {
	var (
		cfg       daemon.Config
		subnet    string
		logFormat string
		pausedTTL string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the runtools daemon (as root)",
		Long:  serverLong,
		Example: `  sudo runtools server
  sudo RUNTOOLS_API_KEY=my-long-secret-key runtools server --data-dir /srv/runtools --listen 0.0.0.0:7070
  sudo PGPASSWORD=... runtools server --cluster postgres://runtools@db.internal:5432/runtools?sslmode=require \
      --node-name n1 --advertise 10.0.0.11 --listen 0.0.0.0:7070`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Subnet, err = netip.ParsePrefix(subnet); err != nil {
				return fmt.Errorf("--subnet %q: %w", subnet, err)
			}
			if cfg.PausedTTL, err = parseTTL(pausedTTL); err != nil {
				return fmt.Errorf("--paused-ttl %q: %w", pausedTTL, err)
			}
			if cfg.MaxSnapshots < 0 {
				return fmt.Errorf("--max-snapshots is 0 (keep all) or more, got %d", cfg.MaxSnapshots)
			}
			log, err := newLogger(logFormat, cfg.Debug)
			if err != nil {
				return err
			}
			cfg.APIKey = os.Getenv("RUNTOOLS_API_KEY")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return daemon.Run(ctx, cfg, log, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/runtools", "directory for the database, sandboxes and runsc state")
	addClusterFlags(f, &cfg)
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:7070", "address of the HTTP API")
	f.StringVar(&cfg.Proxy.Listen, "proxy-listen", ":8080", "address of the dev-server URLs ({port}-{id}.{domain}); empty turns them off")
	f.StringVar(&cfg.Proxy.Domain, "proxy-domain", "sandboxes.localhost", "domain of the dev-server URLs (point *.DOMAIN at this host)")
	f.StringVar(&cfg.Proxy.CertFile, "proxy-tls-cert", "", "serve the dev-server URLs over TLS with this certificate for *.DOMAIN (PEM)")
	f.StringVar(&cfg.Proxy.KeyFile, "proxy-tls-key", "", "key of --proxy-tls-cert (PEM)")
	f.BoolVar(&cfg.Proxy.ACME, "proxy-acme", false, "get TLS certificates automatically (ACME, TLS-ALPN-01 on the proxy's port, which must be 443 and public)")
	f.StringVar(&cfg.Proxy.ACMEEmail, "proxy-acme-email", "", "contact email for --proxy-acme")
	f.StringVar(&cfg.SSH.Listen, "ssh-listen", ":2222", "address of the SSH gateway (ssh SANDBOX-ID@HOST -p PORT); empty turns it off")
	f.StringVar(&cfg.SSH.Host, "ssh-host", "", "host name shown in SSH commands (default: the --ssh-listen host, else localhost)")
	f.StringVar(&cfg.TemplateDir, "template-dir", "/var/cache/runtools/templates", "template cache (rebuildable)")
	f.StringVar(&cfg.Runsc, "runsc", "", "runsc binary (default "+daemon.DefaultRunsc+", else runsc on PATH)")
	f.StringVar(&cfg.Platform, "platform", "auto", "gVisor platform: auto (kvm if it works here, else systrap), systrap, kvm, ptrace")
	f.StringVar(&cfg.Bridge, "bridge", "rt0", "host bridge the sandboxes attach to")
	f.StringVar(&subnet, "subnet", "10.123.0.0/16", "address range of the sandboxes")
	f.BoolVar(&cfg.BuildOnStart, "build-templates", true, "build missing templates in the background at start")
	addBuildFlags(f, &cfg.Build)
	f.StringVar(&pausedTTL, "paused-ttl", "never", "destroy a sandbox that stays paused this long (a duration such as 72h), or never")
	f.IntVar(&cfg.MaxSnapshots, "max-snapshots", 0, "snapshots each sandbox keeps: a new one beyond it removes the oldest unpinned; 0 keeps all")
	f.BoolVar(&cfg.Webhooks.AllowPrivate, "webhook-allow-private", true, "deliver webhooks to loopback and private addresses too (receivers on this host or its network); link-local, metadata and the sandboxes' addresses are always refused")
	f.DurationVar(&cfg.Webhooks.Timeout, "webhook-timeout", 10*time.Second, "how long a webhook receiver has to answer a delivery; one that answers later is tried again")
	f.DurationVar(&cfg.Webhooks.FirstRetry, "webhook-first-retry", 10*time.Second, "wait after a webhook delivery's first failure; it doubles with each (at most 4h), for 17 attempts")
	f.BoolVar(&cfg.Debug, "debug", false, "debug logs, including runsc's per sandbox")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	cmd.AddCommand(buildTemplatesCommand())
	return cmd
}

// addClusterFlags adds the flags that make the server a node of a cluster.
func addClusterFlags(f *pflag.FlagSet, cfg *daemon.Config) {
	f.StringVar(&cfg.Cluster, "cluster", "", "keep the records in this PostgreSQL database (postgres://USER@HOST:PORT/DB) instead of DATA_DIR/runtools.db, as one node of the cluster on it")
	f.StringVar(&cfg.ObjectStore, "object-store", "", "with --cluster, also keep paused sandboxes' images in this S3-compatible store (s3://BUCKET?endpoint=HOST:PORT), so they resume on any node; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	f.StringVar(&cfg.Node.Name, "node-name", "", "this server's name among the cluster's nodes, unique and stable across restarts (default: the host name)")
	f.StringVar(&cfg.Node.Advertise, "advertise", "", "host or IP the other nodes reach this one's API at (default: the --listen host)")
	f.IntVar(&cfg.Node.Slots, "node-slots", 1000, "sandboxes this node runs at most; creates beyond go to other nodes, or are refused")
	f.DurationVar(&cfg.Node.Lease, "node-lease", 15*time.Second, "a node that has not renewed its lease for this long is lost: its running sandboxes are reported failed")
}

// addBuildFlags adds the flags that limit custom template builds.
func addBuildFlags(f *pflag.FlagSet, b *daemon.BuildConfig) {
	f.IntVar(&b.VCPUs, "build-vcpus", 2, "vCPUs of each sandbox that runs a custom template's build step")
	f.IntVar(&b.MemoryMB, "build-memory-mb", 2048, "memory of each sandbox that runs a custom template's build step")
	f.DurationVar(&b.StepTimeout, "build-step-timeout", 30*time.Minute, "how long one RUN step of a template build may take")
	f.IntVar(&b.MaxContextMB, "build-max-context-mb", 2048, "largest build context a template build takes, uncompressed")
	f.IntVar(&b.MaxImageMB, "build-max-image-mb", 8192, "largest image (its compressed layers) a template build pulls or imports")
	f.IntVar(&b.DiskMB, "build-disk-mb", 10240, "most a template build's step may write; a step that writes more is stopped")
	f.DurationVar(&b.CacheTTL, "build-cache-ttl", 7*24*time.Hour, "how long a cached build layer that no template uses is kept after a build last used it")
}

func buildTemplatesCommand() *cobra.Command {
	var dir, logFormat string
	var fresh bool
	cmd := &cobra.Command{
		Use:   "build-templates [NAME...]",
		Short: "Build templates into the cache without a running server",
		Long: `Build templates (default: all) into the template cache directly, showing
progress. A template whose recipe has not changed is not rebuilt, unless
--fresh says to: Debian's archive moves, and a fresh build takes what it
has today. A fresh build becomes current once complete; sandboxes running
on the old one keep it. Each template's key package versions are printed
at the end. The setup script runs this before the first start so the
server starts with its templates ready.`,
		Example: `  sudo runtools server build-templates --template-dir /var/cache/runtools/templates base
  sudo runtools server build-templates --fresh desktop`,
		RunE: func(cmd *cobra.Command, names []string) error {
			log, err := newLogger(logFormat, false)
			if err != nil {
				return err
			}
			m, err := template.New(template.Config{Dir: dir, Dockerfile: daemon.DockerfileBuilder{TemplateDir: dir, Log: log}}, log)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				names = m.Names()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.ErrOrStderr()
			build := m.Build
			if fresh {
				build = m.Rebuild
			}
			var built []template.Info
			for _, name := range names {
				info, err := build(ctx, name, func(p template.Progress) {
					line := p.Step
					if p.Detail != "" {
						line += ": " + p.Detail
					}
					fmt.Fprintf(out, "[%s %6s] %s\n", p.Template, p.Elapsed.Round(time.Second), line)
				})
				if err != nil {
					return fmt.Errorf("building template %s: %w", name, err)
				}
				fmt.Fprintf(out, "template %s ready: %s (%d MB, built %s)\n", info.Name, info.RootFS, info.Size>>20, info.BuiltAt.Format(time.DateOnly))
				built = append(built, info)
			}
			for _, info := range built { // last, where a test log shows them
				if v := info.KeyVersions(); v != "" {
					fmt.Fprintf(out, "template %s (built %s) has %s\n", info.Name, info.BuiltAt.Format(time.DateOnly), v)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "template-dir", "/var/cache/runtools/templates", "template cache directory")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "build again from today's Debian archive even if the cached build is up to date")
	return cmd
}

func newLogger(format string, debug bool) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// parseTTL reads a duration flag where "never" (or 0) means none.
func parseTTL(s string) (time.Duration, error) {
	if s == "never" || s == "" || s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("must be positive, or never")
	}
	return d, err
}
