package main

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
)

// rawRunsc starts sandboxes with runsc directly: the daemon's own OCI spec
// without the agent, running `sleep infinity`, and the daemon's runsc flags.
type rawRunsc struct {
	runsc, root, dir, platform string
	spec                       specs.Spec // the daemon's spec, agent removed
	net                        *rawNet
	seq                        int
}

// rawBox is one raw sandbox.
type rawBox struct {
	id, dir, ns, veth string
	ip                netip.Addr // set if pinned
	pinned            bool       // its network is pinned (see rawNet.pin)
}

// agentMount is where the daemon mounts its agent; the raw spec drops it.
const agentMount = "/.runtools/runtools"

// newRawRunsc derives the raw spec from the OCI spec the daemon wrote for
// one of its sandboxes, so mounts, resources, capabilities, rlimits and the
// root filesystem are the same.
func newRawRunsc(runsc, dir, platform, daemonSpec string, net *rawNet) (*rawRunsc, error) {
	data, err := os.ReadFile(daemonSpec)
	if err != nil {
		return nil, fmt.Errorf("reading the daemon's OCI spec: %w", err)
	}
	r := &rawRunsc{runsc: runsc, root: filepath.Join(dir, "runsc"), dir: dir, platform: platform, net: net}
	if err := json.Unmarshal(data, &r.spec); err != nil {
		return nil, fmt.Errorf("decoding the daemon's OCI spec %s: %w", daemonSpec, err)
	}
	if r.spec.Process == nil || r.spec.Root == nil || r.spec.Linux == nil {
		return nil, fmt.Errorf("the daemon's OCI spec %s lacks process, root or linux", daemonSpec)
	}
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

// rootfs is the template root filesystem the daemon used.
func (r *rawRunsc) rootfs() string { return r.spec.Root.Path }

// flags are the daemon's global runsc flags (internal/runtime/gvisor).
func (r *rawRunsc) flags(network, overlay string) []string {
	return []string{
		"--root=" + r.root,
		"--platform=" + r.platform,
		"--network=" + network,
		"--net-raw=false",
		"--host-uds=none",
		"--overlay2=root:dir=" + overlay + ",size=2048m",
	}
}

// start makes a sandbox, with a namespace on the raw bridge if withNet,
// else with --network=none, and returns it with the phases it took.
func (r *rawRunsc) start(ctx context.Context, withNet bool) (*rawBox, []phase, error) {
	b := r.newBox()
	var phases []phase
	t := time.Now()
	network, nsPath := "none", ""
	if withNet {
		var err error
		if b.ns, b.veth, err = r.net.add(ctx, r.seq); err != nil {
			return b, nil, fmt.Errorf("network for %s: %w", b.id, err)
		}
		network, nsPath = "sandbox", "/run/netns/"+b.ns
		phases = append(phases, phase{"netns + veth (3 ip calls)", time.Since(t)})
		t = time.Now()
	}
	if err := r.launch(ctx, b, network, nsPath, nil); err != nil {
		return b, phases, err
	}
	phases = append(phases, phase{"bundle + runsc run", time.Since(t)})
	return b, phases, nil
}

// newBox names the next sandbox.
func (r *rawRunsc) newBox() *rawBox {
	r.seq++
	b := &rawBox{id: fmt.Sprintf("rtbench-raw-%d", r.seq)}
	b.dir = filepath.Join(r.dir, b.id)
	return b
}

// launch writes b's bundle, with process args instead of the raw spec's if
// args is not nil, and runs it with `runsc run --detach`.
func (r *rawRunsc) launch(ctx context.Context, b *rawBox, network, nsPath string, args []string) error {
	if err := r.writeBundle(b, nsPath, args); err != nil {
		return err
	}
	console, err := os.Create(filepath.Join(b.dir, "console.log"))
	if err != nil {
		return fmt.Errorf("creating console log: %w", err)
	}
	defer console.Close()
	args = append(r.flags(network, filepath.Join(b.dir, "overlay")), "run", "--detach", "--bundle="+filepath.Join(b.dir, "bundle"), b.id)
	// The sandbox keeps runsc run's stdio: a file, not a pipe we would wait on.
	cmd := exec.CommandContext(ctx, r.runsc, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(console.Name())
		return fmt.Errorf("runsc run %s: %w: %s", b.id, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (r *rawRunsc) writeBundle(b *rawBox, nsPath string, args []string) error {
	for _, d := range []string{filepath.Join(b.dir, "bundle"), filepath.Join(b.dir, "overlay")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	s := r.spec
	s.Hostname = b.id
	if args != nil {
		p := *s.Process
		p.Args = args
		s.Process = &p
	}
	linux := *s.Linux
	linux.CgroupsPath = filepath.Join(filepath.Dir(linux.CgroupsPath), b.id) // same parent as the daemon's
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
	if err := os.WriteFile(filepath.Join(b.dir, "bundle", "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing OCI spec: %w", err)
	}
	return nil
}

// exec runs `true` in the sandbox with runsc exec.
func (r *rawRunsc) exec(ctx context.Context, b *rawBox) error {
	_, err := command(ctx, r.runsc, "--root="+r.root, "exec", b.id, "true")
	return err
}

// remove deletes the sandbox, its network and its files.
func (r *rawRunsc) remove(ctx context.Context, b *rawBox) error {
	var errs []error
	if _, err := command(ctx, r.runsc, "--root="+r.root, "delete", "--force", b.id); err != nil &&
		!strings.Contains(err.Error(), "does not exist") {
		errs = append(errs, err)
	}
	if b.ns != "" {
		errs = append(errs, r.net.remove(ctx, b.ns, b.veth))
	}
	if b.pinned {
		errs = append(errs, r.net.unpin(ctx, b.ip))
	}
	errs = append(errs, os.RemoveAll(b.dir))
	return errors.Join(errs...)
}

// createFirstExec starts a raw sandbox and runs `true` in it.
func (r *rawRunsc) createFirstExec(ctx context.Context, withNet bool) (trial, error) {
	t0 := time.Now()
	b, phases, err := r.start(ctx, withNet)
	tr := trial{remove: func(ctx context.Context) error { return r.remove(ctx, b) }}
	if err != nil {
		return tr, err
	}
	t1 := time.Now()
	if err := r.exec(ctx, b); err != nil {
		return tr, err
	}
	tr.total = time.Since(t0)
	tr.phases = append(phases, phase{"first exec (runsc exec)", time.Since(t1)})
	return tr, nil
}

// close deletes every container left under the raw runsc root.
func (r *rawRunsc) close(ctx context.Context) error {
	out, err := command(ctx, r.runsc, "--root="+r.root, "list", "--quiet")
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range strings.Fields(out) {
		_, err := command(ctx, r.runsc, "--root="+r.root, "delete", "--force", id)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
