package raw

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

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/node"
)

// StartNode starts a raw sandbox running the Node.js server (holding
// holdMB MiB), on a pinned network (see Net.pin), and waits until the
// server answers. The box is returned even on failure, for removal.
func (r *Runsc) StartNode(ctx context.Context, holdMB int) (*Box, error) {
	b := r.newBox()
	var err error
	if b.ns, b.veth, err = r.net.add(ctx, r.seq); err != nil {
		return b, fmt.Errorf("network for %s: %w", b.ID, err)
	}
	b.IP, b.pinned = r.net.addr(r.seq), true
	if err := r.net.pin(ctx, b.ns, b.veth, b.IP); err != nil {
		return b, err
	}
	if err := r.launch(ctx, b, "sandbox", "/run/netns/"+b.ns, node.Args(holdMB)); err != nil {
		return b, err
	}
	if _, err := node.Wait(ctx, b.IP.String(), holdMB, time.Minute); err != nil {
		return b, fmt.Errorf("raw sandbox %s: %w (console: %s)", b.ID, err, r.Console(b))
	}
	return b, nil
}

// Checkpoint saves b into img and stops it, as the daemon's pause does:
// `runsc --root R checkpoint --image-path IMG ID`.
func (r *Runsc) Checkpoint(ctx context.Context, b *Box, img string) error {
	_, err := host.Command(ctx, r.runsc, "--root="+r.root, "checkpoint", "--image-path="+img, b.ID)
	return err
}

// WaitStopped polls `runsc state` until it no longer says running (or no
// longer knows the container).
func (r *Runsc) WaitStopped(ctx context.Context, b *Box) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := host.Command(ctx, r.runsc, "--root="+r.root, "state", b.ID)
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
			return fmt.Errorf("decoding runsc state %s: %w", b.ID, err)
		}
		if st.Status != "running" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still running 30 s after its checkpoint", b.ID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// DeleteContainer is `runsc delete --force ID`.
func (r *Runsc) DeleteContainer(ctx context.Context, b *Box) error {
	_, err := host.Command(ctx, r.runsc, "--root="+r.root, "delete", "--force", b.ID)
	return err
}

// Readdress puts b's address and default route back on its eth0, as a
// restore into the same namespace needs (see Net.readdress).
func (r *Runsc) Readdress(ctx context.Context, b *Box) error {
	return r.net.readdress(ctx, b.ns, b.IP)
}

// Restore starts b again from img, into its own bundle, namespace and
// overlay directory, with the daemon's flags:
// `runsc ... restore --detach --image-path IMG --bundle B ID`.
func (r *Runsc) Restore(ctx context.Context, b *Box, img string) error {
	console, err := os.OpenFile(filepath.Join(b.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening console log: %w", err)
	}
	defer console.Close()
	args := append(r.flags("sandbox", filepath.Join(b.Dir, "overlay")),
		"restore", "--detach", "--image-path="+img, "--bundle="+filepath.Join(b.Dir, "bundle"), b.ID)
	// Like run, the sandbox keeps restore's stdio: a file, not a pipe.
	cmd := exec.CommandContext(ctx, r.runsc, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("runsc restore %s: %w: %s", b.ID, err, r.Console(b))
	}
	return nil
}

// Console returns the end of b's console log, for error messages.
func (r *Runsc) Console(b *Box) string {
	data, _ := os.ReadFile(filepath.Join(b.Dir, "console.log"))
	return host.LastLines(strings.TrimSpace(string(data)), 5)
}

// DirSize is the total size of the regular files directly in dir.
func DirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}
