// Package agent is the in-sandbox agent. It runs as PID 1 inside every
// sandbox, reaps orphaned processes, and serves the daemon's HTTP API for
// running processes and moving files. The wire types live in package
// agentapi; the daemon's side is package agentclient.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// Config configures the agent. The daemon passes it through the
// agentapi.Env* variables; see ConfigFromEnv.
type Config struct {
	// Listen is the TCP address to serve on. Default ":49983" (agentapi.Port).
	Listen string
	// Token is the bearer secret every request must carry. Required.
	Token string
	// DNS lists the nameservers written to /etc/resolv.conf at boot.
	// Nothing is written when empty.
	DNS []string
	// Hostname is written to /etc/hostname and /etc/hosts at boot.
	// Nothing is written when empty.
	Hostname string
	// Nproc is RLIMIT_NPROC (soft and hard) for every process the agent
	// starts. Zero leaves the inherited limit alone.
	Nproc int
	// Env is the base environment of every process the agent starts. It is
	// applied over the built-in defaults (PATH, LANG, ...) and under the
	// per-user variables (HOME, USER, LOGNAME, SHELL) and the request's own.
	// ConfigFromEnv fills it with the agent's environment (the image's ENV)
	// minus the agent's own variables.
	Env map[string]string
	// Workdir and User are a process's directory and user when its request
	// names none (a template's WORKDIR and USER): "" is the user's home,
	// and root.
	Workdir string
	User    string
	// NoHooks: the template's start hooks do not run (a build step).
	NoHooks bool
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = ":" + strconv.Itoa(agentapi.Port)
	}
	return c
}

func (c Config) validate() error {
	if c.Token == "" {
		return errors.New("agent token is empty: refusing to start without authentication")
	}
	if c.Nproc < 0 {
		return fmt.Errorf("nproc %d is negative", c.Nproc)
	}
	return nil
}

// agentVars are removed from the agent's environment so that no child ever
// inherits them.
var agentVars = []string{agentapi.EnvToken, agentapi.EnvDNS, agentapi.EnvHostname, agentapi.EnvNproc, agentapi.EnvWorkdir, agentapi.EnvUser, agentapi.EnvNoHooks}

// notInherited are variables of the agent's own environment that describe the
// agent's user or shell, not the image, so they are not passed on.
var notInherited = map[string]bool{
	"HOME": true, "USER": true, "LOGNAME": true, "SHELL": true,
	"PWD": true, "OLDPWD": true, "SHLVL": true, "_": true,
}

// ConfigFromEnv reads the agentapi.Env* variables, then removes them from
// the process environment so that no child process can inherit the token.
// The rest of the environment becomes Config.Env.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		Token:    os.Getenv(agentapi.EnvToken),
		Hostname: strings.TrimSpace(os.Getenv(agentapi.EnvHostname)),
		Workdir:  os.Getenv(agentapi.EnvWorkdir),
		User:     os.Getenv(agentapi.EnvUser),
		NoHooks:  os.Getenv(agentapi.EnvNoHooks) == "1",
	}
	for _, ns := range strings.Split(os.Getenv(agentapi.EnvDNS), ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			cfg.DNS = append(cfg.DNS, ns)
		}
	}
	nproc := strings.TrimSpace(os.Getenv(agentapi.EnvNproc))
	for _, k := range agentVars {
		os.Unsetenv(k)
	}
	if nproc != "" {
		n, err := strconv.Atoi(nproc)
		if err != nil || n < 0 {
			return Config{}, fmt.Errorf("parsing %s=%q: want a non-negative integer", agentapi.EnvNproc, nproc)
		}
		cfg.Nproc = n
	}
	cfg.Env = make(map[string]string)
	for _, kv := range os.Environ() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || notInherited[k] {
			continue
		}
		cfg.Env[k] = v
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Run boots the sandbox (resolv.conf, hostname, hosts), then serves the agent
// API on cfg.Listen until ctx is done or the agent receives SIGTERM or SIGINT,
// in which case it returns nil. As PID 1 it also reaps orphaned zombies.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	// One P: the agent mostly waits on I/O, and idle Ps spinning for work
	// cost real CPU inside gVisor, where every futex and sched_yield is a
	// trip through the sentry. That CPU is taken from the sandbox's own
	// processes, and from the exec the agent is serving.
	runtime.GOMAXPROCS(1)
	srv, err := NewServer(cfg, log)
	if err != nil {
		return err
	}
	cfg = srv.cfg
	boot(cfg, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go handleSignals(ctx, stop, log)
	if os.Getpid() == 1 {
		go srv.spawner.reapOrphans(ctx, "/proc")
	}
	log.Info("agent serving", "addr", ln.Addr().String(), "pid", os.Getpid(), "nproc", cfg.Nproc)
	if !cfg.NoHooks {
		go srv.runStartHooks(log)
	}
	return srv.Serve(ctx, ln)
}

// handleSignals turns SIGTERM and SIGINT into a clean shutdown and swallows
// SIGHUP. Handlers are used rather than signal.Ignore because an ignored
// disposition would be inherited by every child across exec.
func handleSignals(ctx context.Context, stop context.CancelFunc, log *slog.Logger) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-ch:
			if sig == syscall.SIGHUP {
				log.Info("ignoring signal", "signal", sig.String())
				continue
			}
			log.Info("shutting down", "signal", sig.String())
			stop()
			return
		}
	}
}
