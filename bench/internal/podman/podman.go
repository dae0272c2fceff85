// Package podman runs the template's root filesystem with podman and runsc
// as its OCI runtime, on podman's default CNI network, for comparison, and
// removes the NAT rules podman leaves behind with runsc.
package podman

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Podman runs the same root filesystem with podman and runsc as its OCI
// runtime, on podman's default (CNI) network.
type Podman struct {
	// Label marks every container of this bench run.
	Label string
	// IDs are every container started.
	IDs []string
	// Leaked counts the CNI NAT chains podman left and the bench removed.
	Leaked int

	runtime, platform, rootfs string
	hadBridge, hadChains      bool // podman's network state before the bench
}

// cniBridge is the bridge of podman's default CNI network.
const cniBridge = "cni-podman0"

// New checks that podman is usable and notes its network state, so Close
// removes only what the bench made. runtime is the runsc binary; runID
// names the bench run in the containers' label.
func New(ctx context.Context, runtime, platform, rootfs, runID string) (*Podman, error) {
	if _, err := host.Command(ctx, "podman", "--version"); err != nil {
		return nil, fmt.Errorf("podman is not usable: %w", err)
	}
	p := &Podman{runtime: runtime, platform: platform, rootfs: rootfs, Label: "runtools-bench=" + runID}
	_, err := net.InterfaceByName(cniBridge)
	p.hadBridge = err == nil
	_, err = host.Command(ctx, "iptables", "-w", "-t", "filter", "-S", "CNI-FORWARD")
	p.hadChains = err == nil
	return p, nil
}

func (p *Podman) args(a ...string) []string {
	return append([]string{"--runtime", p.runtime, "--runtime-flag", "platform=" + p.platform}, a...)
}

// Start runs `sleep infinity` detached, with the daemon's default vCPUs,
// memory and pids. The root filesystem is mounted with ":O", an overlay
// podman makes on the host, so nothing is written into the template.
func (p *Podman) Start(ctx context.Context) (string, error) {
	out, err := host.Command(ctx, "podman", p.args("run", "-d", "--label", p.Label,
		"--ulimit", "nofile=20000:20000", "--cpus", "2", "--memory", "1024m", "--pids-limit", "8192",
		"--rootfs", p.rootfs+":O", "sleep", "infinity")...)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("podman run printed no container id")
	}
	p.IDs = append(p.IDs, f[len(f)-1])
	return f[len(f)-1], nil
}

// Exec runs `true` in container id.
func (p *Podman) Exec(ctx context.Context, id string) error {
	_, err := host.Command(ctx, "podman", p.args("exec", id, "true")...)
	return err
}

// Remove removes a container, and the NAT rules its CNI network left: the
// CNI bridge plugin finds the rules to delete from the addresses of the
// container's eth0, and runsc has moved those into its own network stack,
// so podman's teardown leaves them behind.
func (p *Podman) Remove(ctx context.Context, id string) error {
	_, err := host.Command(ctx, "podman", p.args("rm", "-f", id)...)
	n, cerr := removeCNIRules(ctx, id)
	p.Leaked += n
	return errors.Join(err, cerr)
}

// CreateFirstExec starts a container and runs `true` in it.
func (p *Podman) CreateFirstExec(ctx context.Context) (measure.Trial, error) {
	t0 := time.Now()
	id, err := p.Start(ctx)
	if err != nil {
		// A failed run can leave a created container: remove by label.
		return measure.Trial{Remove: p.removeAll}, fmt.Errorf("podman run: %w", err)
	}
	t1 := time.Now()
	tr := measure.Trial{Remove: func(ctx context.Context) error { return p.Remove(ctx, id) }}
	if err := p.Exec(ctx, id); err != nil {
		return tr, fmt.Errorf("podman exec: %w", err)
	}
	tr.Total = time.Since(t0)
	tr.Phases = []stats.Phase{{Name: "podman run -d", D: t1.Sub(t0)}, {Name: "first exec (podman exec)", D: time.Since(t1)}}
	return tr, nil
}

// removeAll removes every container of this bench run.
func (p *Podman) removeAll(ctx context.Context) error {
	out, err := host.Command(ctx, "podman", "ps", "-aq", "--no-trunc", "--filter", "label="+p.Label)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range strings.Fields(out) {
		errs = append(errs, p.Remove(ctx, id))
	}
	return errors.Join(errs...)
}

// Close removes this run's containers, and podman's bridge and firewall
// chains if they were not there before the bench.
func (p *Podman) Close(ctx context.Context) error {
	errs := []error{p.removeAll(ctx)}
	if !p.hadBridge {
		errs = append(errs, host.DeleteLink(ctx, cniBridge))
	}
	if !p.hadChains {
		errs = append(errs, deleteJumps(ctx, "filter", "FORWARD", "CNI-FORWARD"))
		for _, c := range []string{"CNI-FORWARD", "CNI-ADMIN"} {
			errs = append(errs, deleteChain(ctx, "filter", c))
		}
	}
	return errors.Join(errs...)
}
