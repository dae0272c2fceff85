package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// startNode starts a raw sandbox running the Node.js server (holding
// holdMB MiB), on a pinned network (see rawNet.pin), and waits until the
// server answers. The box is returned even on failure, for removal.
func (r *rawRunsc) startNode(ctx context.Context, holdMB int) (*rawBox, error) {
	b := r.newBox()
	var err error
	if b.ns, b.veth, err = r.net.add(ctx, r.seq); err != nil {
		return b, fmt.Errorf("network for %s: %w", b.id, err)
	}
	b.ip, b.pinned = r.net.addr(r.seq), true
	if err := r.net.pin(ctx, b.ns, b.veth, b.ip); err != nil {
		return b, err
	}
	if err := r.launch(ctx, b, "sandbox", "/run/netns/"+b.ns, nodeArgs(holdMB)); err != nil {
		return b, err
	}
	if _, err := waitNode(ctx, b.ip.String(), holdMB, time.Minute); err != nil {
		return b, fmt.Errorf("raw sandbox %s: %w (console: %s)", b.id, err, r.console(b))
	}
	return b, nil
}

// checkpoint saves b into img and stops it, as the daemon's pause does:
// `runsc --root R checkpoint --image-path IMG ID`.
func (r *rawRunsc) checkpoint(ctx context.Context, b *rawBox, img string) error {
	_, err := command(ctx, r.runsc, "--root="+r.root, "checkpoint", "--image-path="+img, b.id)
	return err
}

// waitStopped polls `runsc state` until it no longer says running (or no
// longer knows the container).
func (r *rawRunsc) waitStopped(ctx context.Context, b *rawBox) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := command(ctx, r.runsc, "--root="+r.root, "state", b.id)
		if err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				return nil
			}
			return err
		}
		var st struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			return fmt.Errorf("decoding runsc state %s: %w", b.id, err)
		}
		if st.Status != "running" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still running 30 s after its checkpoint", b.id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// deleteContainer is `runsc delete --force ID`.
func (r *rawRunsc) deleteContainer(ctx context.Context, b *rawBox) error {
	_, err := command(ctx, r.runsc, "--root="+r.root, "delete", "--force", b.id)
	return err
}

// restore starts b again from img, into its own bundle, namespace and
// overlay directory, with the daemon's flags:
// `runsc ... restore --detach --image-path IMG --bundle B ID`.
func (r *rawRunsc) restore(ctx context.Context, b *rawBox, img string) error {
	console, err := os.OpenFile(filepath.Join(b.dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening console log: %w", err)
	}
	defer console.Close()
	args := append(r.flags("sandbox", filepath.Join(b.dir, "overlay")),
		"restore", "--detach", "--image-path="+img, "--bundle="+filepath.Join(b.dir, "bundle"), b.id)
	// Like run, the sandbox keeps restore's stdio: a file, not a pipe.
	cmd := exec.CommandContext(ctx, r.runsc, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("runsc restore %s: %w: %s", b.id, err, r.console(b))
	}
	return nil
}

// console returns the end of b's console log, for error messages.
func (r *rawRunsc) console(b *rawBox) string {
	data, _ := os.ReadFile(filepath.Join(b.dir, "console.log"))
	return lastLines(strings.TrimSpace(string(data)), 5)
}

// dirSize is the total size of the regular files directly in dir.
func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}
