// Package raw runs sandboxes with runsc directly, as the daemon would
// without its agent: the daemon's own OCI spec and runsc flags, and a
// network made with iproute2 the way the daemon makes its own with netlink.
package raw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Runsc starts sandboxes with runsc directly: the daemon's own OCI spec
// without the agent, running `sleep infinity`, and the daemon's runsc
// flags.
type Runsc struct {
	runsc, root, dir, platform string
	spec                       specs.Spec // the daemon's spec, agent removed
	net                        *Net
	seq                        int
}

// Box is one raw sandbox.
type Box struct {
	ID, Dir  string
	IP       netip.Addr // set if pinned
	ns, veth string
	pinned   bool // its network is pinned (see Net.pin)
}

// agentMount is where the daemon mounts its agent; the raw spec drops it.
const agentMount = "/.runtools/runtools"

// New derives the raw spec from the OCI spec the daemon wrote for one of
// its sandboxes, so mounts, resources, capabilities and rlimits are the
// same; its root filesystem is rootfs, the template's. Its sandboxes live
// under dir.
func New(runsc, dir, platform, daemonSpec, rootfs string, net *Net) (*Runsc, error) {
	data, err := os.ReadFile(daemonSpec)
	if err != nil {
		return nil, fmt.Errorf("reading the daemon's OCI spec: %w", err)
	}
	r := &Runsc{runsc: runsc, root: filepath.Join(dir, "runsc"), dir: dir, platform: platform, net: net}
	if err := json.Unmarshal(data, &r.spec); err != nil {
		return nil, fmt.Errorf("decoding the daemon's OCI spec %s: %w", daemonSpec, err)
	}
	if r.spec.Process == nil || r.spec.Root == nil || r.spec.Linux == nil {
		return nil, fmt.Errorf("the daemon's OCI spec %s lacks process, root or linux", daemonSpec)
	}
	// The daemon's sandbox runs on its own disk (an overlay over the
	// template); runsc alone runs on the template, with its own overlay.
	r.spec.Root.Path = rootfs
	r.spec.Process.Args = []string{"sleep", "infinity"}
	var env []string
	for _, e := range r.spec.Process.Env {
		if !strings.HasPrefix(e, "RUNTOOLS_") { // the agent's settings
			env = append(env, e)
		}
	}
	r.spec.Process.Env = env
	var mounts []specs.Mount
	for _, m := range r.spec.Mounts {
		if m.Destination != agentMount {
			mounts = append(mounts, m)
		}
	}
	r.spec.Mounts = mounts
	return r, os.MkdirAll(r.root, 0o700)
}

// flags are the daemon's global runsc flags (internal/runtime/gvisor).
func (r *Runsc) flags(network, overlay string) []string {
	return []string{
		"--root=" + r.root,
		"--platform=" + r.platform,
		"--network=" + network,
		"--net-raw=false",
		"--host-uds=none",
		"--overlay2=root:dir=" + overlay + ",size=2048m",
	}
}

// Start makes a sandbox, with a namespace on the raw bridge if withNet,
// else with --network=none, and returns it with the phases it took. The
// box is returned even on failure, for Remove.
func (r *Runsc) Start(ctx context.Context, withNet bool) (*Box, []stats.Phase, error) {
	b := r.newBox()
	var phases []stats.Phase
	t := time.Now()
	network, nsPath := "none", ""
	if withNet {
		var err error
		if b.ns, b.veth, err = r.net.add(ctx, r.seq); err != nil {
			return b, nil, fmt.Errorf("network for %s: %w", b.ID, err)
		}
		network, nsPath = "sandbox", "/run/netns/"+b.ns
		phases = append(phases, stats.Phase{Name: "netns + veth (3 ip calls)", D: time.Since(t)})
		t = time.Now()
	}
	if err := r.launch(ctx, b, network, nsPath, nil); err != nil {
		return b, phases, err
	}
	phases = append(phases, stats.Phase{Name: "bundle + runsc run", D: time.Since(t)})
	return b, phases, nil
}

// newBox names the next sandbox.
func (r *Runsc) newBox() *Box {
	r.seq++
	b := &Box{ID: fmt.Sprintf("rtbench-raw-%d", r.seq)}
	b.Dir = filepath.Join(r.dir, b.ID)
	return b
}

// launch writes b's bundle, with process args instead of the raw spec's if
// args is not nil, and runs it with `runsc run --detach`.
func (r *Runsc) launch(ctx context.Context, b *Box, network, nsPath string, args []string) error {
	if err := r.writeBundle(b, nsPath, args); err != nil {
		return err
	}
	console, err := os.Create(filepath.Join(b.Dir, "console.log"))
	if err != nil {
		return fmt.Errorf("creating console log: %w", err)
	}
	defer console.Close()
	args = append(r.flags(network, filepath.Join(b.Dir, "overlay")), "run", "--detach", "--bundle="+filepath.Join(b.Dir, "bundle"), b.ID)
	// The sandbox keeps runsc run's stdio: a file, not a pipe we would wait on.
	cmd := exec.CommandContext(ctx, r.runsc, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(console.Name())
		return fmt.Errorf("runsc run %s: %w: %s", b.ID, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (r *Runsc) writeBundle(b *Box, nsPath string, args []string) error {
	for _, d := range []string{filepath.Join(b.Dir, "bundle"), filepath.Join(b.Dir, "overlay")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	s := r.spec
	s.Hostname = b.ID
	if args != nil {
		p := *s.Process
		p.Args = args
		s.Process = &p
	}
	linux := *s.Linux
	linux.CgroupsPath = filepath.Join(filepath.Dir(linux.CgroupsPath), b.ID) // same parent as the daemon's
	linux.Namespaces = nil
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			ns.Path = nsPath
		}
		linux.Namespaces = append(linux.Namespaces, ns)
	}
	s.Linux = &linux
	data, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding OCI spec: %w", err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "bundle", "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing OCI spec: %w", err)
	}
	return nil
}

// Exec runs `true` in the sandbox with runsc exec.
func (r *Runsc) Exec(ctx context.Context, b *Box) error {
	_, err := host.Command(ctx, r.runsc, "--root="+r.root, "exec", b.ID, "true")
	return err
}

// Remove deletes the sandbox, its network and its files.
func (r *Runsc) Remove(ctx context.Context, b *Box) error {
	var errs []error
	if _, err := host.Command(ctx, r.runsc, "--root="+r.root, "delete", "--force", b.ID); err != nil &&
		!strings.Contains(err.Error(), "does not exist") {
		errs = append(errs, err)
	}
	if b.ns != "" {
		errs = append(errs, r.net.remove(ctx, b.ns, b.veth))
	}
	if b.pinned {
		errs = append(errs, r.net.unpin(ctx, b.IP))
	}
	errs = append(errs, os.RemoveAll(b.Dir))
	return errors.Join(errs...)
}

// CreateFirstExec starts a raw sandbox and runs `true` in it.
func (r *Runsc) CreateFirstExec(ctx context.Context, withNet bool) (measure.Trial, error) {
	t0 := time.Now()
	b, phases, err := r.Start(ctx, withNet)
	tr := measure.Trial{Remove: func(ctx context.Context) error { return r.Remove(ctx, b) }}
	if err != nil {
		return tr, err
	}
	t1 := time.Now()
	if err := r.Exec(ctx, b); err != nil {
		return tr, err
	}
	tr.Total = time.Since(t0)
	tr.Phases = append(phases, stats.Phase{Name: "first exec (runsc exec)", D: time.Since(t1)})
	return tr, nil
}

// Close deletes every container left under the raw runsc root.
func (r *Runsc) Close(ctx context.Context) error {
	out, err := host.Command(ctx, r.runsc, "--root="+r.root, "list", "--quiet")
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range strings.Fields(out) {
		_, err := host.Command(ctx, r.runsc, "--root="+r.root, "delete", "--force", id)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
