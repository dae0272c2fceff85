package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/hostfs"
	"github.com/runtools/runtools/internal/layer"
	"github.com/runtools/runtools/internal/network"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/template"
)

// DockerfileBuilder builds the built-in templates defined by a Dockerfile
// (code) with the custom-template machinery, so that every step runs in a
// gVisor sandbox as a user's build does: it runs a server of its own on a
// bridge of its own, builds the template there as a custom one, and
// copies the result, flattened, into the template cache.
type DockerfileBuilder struct {
	TemplateDir string
	Runsc       string
	Log         *slog.Logger
}

// The bridge and subnet of the builder's own server: apart from a running
// server's (rt0) and from the tests' (rtit*, 10.200-249.0.0/16).
const (
	builderBridge = "rtbuild0"
	builderSubnet = "10.252.0.0/24"
)

// Build implements template.Builder.
func (b DockerfileBuilder) Build(ctx context.Context, r template.Recipe, rootfs string, rep template.Reporter) (err error) {
	log := b.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("build_server", r.Name)
	work := filepath.Dir(rootfs)
	data, bctx := filepath.Join(work, "data"), filepath.Join(work, "context")
	defer func() {
		if uerr := hostfs.UnmountUnder(work); uerr != nil && err == nil {
			err = uerr
		}
		os.RemoveAll(data)
		os.RemoveAll(bctx)
	}()
	if err := os.CopyFS(bctx, r.Dockerfile.Context); err != nil {
		return fmt.Errorf("writing the build context: %w", err)
	}
	key := auth.NewKey()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cfg := Config{DataDir: data, Listen: addr, TemplateDir: b.TemplateDir, Runsc: b.Runsc, Bridge: builderBridge,
		Subnet: netip.MustParsePrefix(builderSubnet), APIKey: key}
	rep.Step("starting a build server (bridge " + builderBridge + ")")
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, cfg, log, io.Discard) }()
	defer func() {
		if err := network.Remove(context.WithoutCancel(ctx), builderBridge); err != nil {
			log.Warn("removing the build server's network", "bridge", builderBridge, "err", err)
		}
	}()
	c, err := client.New("http://"+addr, key)
	if err != nil {
		stop()
		<-done
		return err
	}
	name := r.Name + "-build" // a built-in name is not a custom template's
	err = buildOn(ctx, c, name, bctx, done, rep)
	stop()
	if rerr := <-done; rerr != nil && !errors.Is(rerr, context.Canceled) && err == nil {
		err = fmt.Errorf("the build server: %w", rerr)
	}
	if err != nil {
		return err
	}
	rep.Step("copying the template into the cache")
	return flatten(ctx, data, name, rootfs, log)
}

// buildOn waits for the build server, then builds r's context on it.
func buildOn(ctx context.Context, c *client.Client, name, dir string, done <-chan error, rep template.Reporter) error {
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if _, err := c.Me(ctx); err == nil {
			break
		} else if time.Since(start) > time.Minute {
			return fmt.Errorf("the build server did not answer in a minute: %w", err)
		}
		select {
		case err := <-done:
			return fmt.Errorf("the build server stopped: %w", err)
		default:
		}
	}
	tar, _, err := client.ContextTar(dir, "")
	if err != nil {
		return err
	}
	defer tar.Close()
	_, err = c.BuildCustomTemplate(ctx, name, client.BuildOptions{Context: tar}, func(p client.TemplateProgress) {
		switch {
		case p.Detail != "":
			fmt.Fprintln(rep, p.Detail)
		case p.Step != "":
			rep.Step(p.Step)
		}
	})
	return err
}

// flatten copies the template the build server in data built as name
// into rootfs, as one directory.
func flatten(ctx context.Context, data, name, rootfs string, log *slog.Logger) error {
	st, err := store.Open(ctx, filepath.Join(data, "runtools.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := st.Templates(ctx, "")
	if err != nil {
		return err
	}
	layers, err := layer.Open(filepath.Join(data, "layers"), log)
	if err != nil {
		return err
	}
	for _, t := range all {
		if t.Name != name {
			continue
		}
		dir, release, err := layers.Temporary(t.Stack)
		if err != nil {
			return err
		}
		defer release()
		if out, err := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", dir+"/.", rootfs).CombinedOutput(); err != nil {
			return fmt.Errorf("copying the built template: %v: %s", err, out)
		}
		return nil
	}
	return fmt.Errorf("the build server has no template %s: %w", name, fs.ErrNotExist)
}

// freeAddr returns a loopback address no one listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
