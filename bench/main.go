// Command bench compares runtools with raw runsc and with podman running
// runsc, on the same machine, template root filesystem and gVisor
// platform, and measures what else runtools does: pause and resume,
// the dev-server proxy, the SSH gateway, desktops, custom templates, event
// streams and density. It prints the report and writes BENCHMARKS.md. It
// needs root, and cleans up everything it makes, also on failure or
// Ctrl-C.
//
//	go run ./bench -runs 20 -out BENCHMARKS.md
//
// Each section is a package under internal/sections, listed in
// sections.go; -only picks some of them. The runtools server, the raw
// runsc and podman systems, the statistics and the report's frame are
// packages under internal.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/hostfs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted (everything made so far was removed): %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := checkHost(ctx, &cfg); err != nil {
		return err
	}
	started := time.Now()
	var undo host.Undo
	defer undo.Run()
	tmp, err := benchDir(&undo)
	if err != nil {
		return err
	}
	before, err := host.FingerprintTemplates(cfg.templateDir)
	if err != nil {
		return err
	}
	frame := newFrame(ctx, cfg)
	env, err := startEnv(ctx, cfg, &undo, tmp, frame.Machine)
	if env != nil {
		defer func() {
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: runtools server log, last lines:\n%s\n", host.LastLines(env.Server.Log(), 40))
			}
		}()
	}
	if err != nil {
		return err
	}
	frame.Platform, frame.Rootfs = env.Server.Platform, env.Systems.Rootfs
	sections := selected(cfg)
	for _, s := range sections {
		if err := s.Run(ctx, env); err != nil {
			return err
		}
	}
	frame.Load[1] = host.LoadAverage()
	if err := finish(ctx, cfg, &frame, env, before); err != nil {
		return err
	}
	frame.Elapsed = time.Since(started)
	return writeReport(cfg, frame, sections)
}

// checkHost checks that the bench can run here: as root, with runsc, the
// runtools binary (built if missing) and subnets no one else uses.
func checkHost(ctx context.Context, cfg *config) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, gVisor)")
	}
	if _, err := os.Stat(cfg.runsc); err != nil {
		return fmt.Errorf("runsc: %w (run `make setup`)", err)
	}
	if err := ensureBinary(ctx, cfg); err != nil {
		return err
	}
	return errors.Join(host.CheckSubnetFree(cfg.subnetPrefix, cfg.bridge), host.CheckSubnetFree(cfg.rawPrefix, cfg.rawBridge))
}

// newFrame starts the report's frame: when, where and how the bench ran.
func newFrame(ctx context.Context, cfg config) report.Frame {
	f := report.Frame{Date: time.Now().UTC(), Machine: host.DescribeMachine(ctx, cfg.runsc), Command: cfg.commandLine(),
		Partial: cfg.only.partial(), Sections: cfg.only, Template: cfg.template, Bridge: cfg.bridge, Subnet: cfg.subnet}
	f.Load[0] = host.LoadAverage()
	return f
}

// startEnv starts the runtools server and the long-lived runtools
// sandbox every section may use. The env is returned once the server
// process exists, for its log.
func startEnv(ctx context.Context, cfg config, undo *host.Undo, tmp string, m host.Machine) (*section.Env, error) {
	scfg := server.Config{Binary: cfg.binary, Runsc: cfg.runsc, TemplateDir: cfg.templateDir, Platform: cfg.platform,
		Bridge: cfg.bridge, Subnet: cfg.subnet}
	srv, err := server.Start(ctx, scfg, filepath.Join(tmp, "server"))
	if srv == nil {
		return nil, fmt.Errorf("runtools server: %w", err)
	}
	undo.Push("stop the runtools server", srv.Stop)
	env := &section.Env{Server: srv, Undo: undo, Machine: m}
	if err != nil {
		return env, fmt.Errorf("runtools server: %w", err)
	}
	// The warm exec runs use it; the raw runsc sandboxes copy its OCI spec,
	// which also tells the template's root filesystem.
	warm, err := srv.Client.Create(ctx, client.CreateRequest{Template: cfg.template})
	if err != nil {
		return env, fmt.Errorf("creating the warm runtools sandbox: %w", err)
	}
	undo.Push("destroy "+warm.ID, func(ctx context.Context) error { return srv.Client.Destroy(ctx, warm.ID) })
	rootfs, err := srv.Rootfs(warm.ID)
	if err != nil {
		return env, err
	}
	env.Warm = warm
	env.Systems = section.Systems{Runsc: cfg.runsc, Dir: tmp, RawBridge: cfg.rawBridge, RawSubnet: cfg.rawPrefix,
		Podman: cfg.podman, Rootfs: rootfs}
	return env, nil
}

// finish removes everything the bench made and checks that nothing is
// left, and that the template's files are unchanged.
func finish(ctx context.Context, cfg config, frame *report.Frame, env *section.Env, before map[string]string) error {
	after, err := host.FingerprintTemplates(cfg.templateDir)
	if err != nil {
		return err
	}
	frame.TemplateCheck = host.CompareTemplates(before, after, filepath.Dir(frame.Rootfs))
	frame.Leaks = env.Leaks()
	if failed := env.Undo.Run(); failed > 0 {
		frame.Leaks = append(frame.Leaks, fmt.Sprintf("%d cleanup steps failed (see stderr)", failed))
	}
	frame.Podman = env.PodmanUse()
	frame.Leaks = append(frame.Leaks, findLeaks(ctx, cfg, env.PodmanMade())...)
	return nil
}

// writeReport renders the report, prints it and writes it to -out, and
// fails if the bench left something behind.
func writeReport(cfg config, frame report.Frame, sections []section.Section) error {
	var parts []report.Part
	for _, s := range sections {
		p, err := s.Report()
		if err != nil {
			return fmt.Errorf("rendering the %s section: %w", s.Name(), err)
		}
		parts = append(parts, p)
	}
	text, err := report.Markdown(frame, parts)
	if err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	fmt.Print(text)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", cfg.out, err)
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", cfg.out)
	}
	if len(frame.Leaks) > 0 {
		return fmt.Errorf("left behind: %v", frame.Leaks)
	}
	return nil
}

// benchDir makes the bench's temporary directory, removed by undo. The
// shared mounts of custom templates outlive the server on purpose (its
// sandboxes keep using them); the bench's go with the directory.
func benchDir(undo *host.Undo) (string, error) {
	tmp, err := os.MkdirTemp("", "runtools-bench-")
	if err != nil {
		return "", fmt.Errorf("making a temporary directory: %w", err)
	}
	undo.Push("remove "+tmp, func(context.Context) error {
		if err := hostfs.UnmountUnder(tmp); err != nil {
			return err
		}
		return os.RemoveAll(tmp)
	})
	return tmp, nil
}
