package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// podman runs the same root filesystem with podman and runsc as its OCI
// runtime, on podman's default (CNI) network.
type podman struct {
	runtime, platform, rootfs, label string
	hadBridge, hadChains             bool     // podman's network state before the bench
	ids                              []string // every container started
	leaked                           int      // CNI NAT chains podman left and the bench removed
}

// cniBridge is the bridge of podman's default CNI network.
const cniBridge = "cni-podman0"

func newPodman(ctx context.Context, runtime, platform, rootfs, runID string) (*podman, error) {
	if _, err := command(ctx, "podman", "--version"); err != nil {
		return nil, fmt.Errorf("podman is not usable: %w", err)
	}
	p := &podman{runtime: runtime, platform: platform, rootfs: rootfs, label: "runtools-bench=" + runID}
	_, err := net.InterfaceByName(cniBridge)
	p.hadBridge = err == nil
	_, err = command(ctx, "iptables", "-w", "-t", "filter", "-S", "CNI-FORWARD")
	p.hadChains = err == nil
	return p, nil
}

func (p *podman) args(a ...string) []string {
	return append([]string{"--runtime", p.runtime, "--runtime-flag", "platform=" + p.platform}, a...)
}

// start runs `sleep infinity` detached, with the daemon's default vCPUs,
// memory and pids. The root filesystem is mounted with ":O", an overlay
// podman makes on the host, so nothing is written into the template.
func (p *podman) start(ctx context.Context) (string, error) {
	out, err := command(ctx, "podman", p.args("run", "-d", "--label", p.label,
		"--ulimit", "nofile=20000:20000", "--cpus", "2", "--memory", "1024m", "--pids-limit", "8192",
		"--rootfs", p.rootfs+":O", "sleep", "infinity")...)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("podman run printed no container id")
	}
	p.ids = append(p.ids, f[len(f)-1])
	return f[len(f)-1], nil
}

func (p *podman) exec(ctx context.Context, id string) error {
	_, err := command(ctx, "podman", p.args("exec", id, "true")...)
	return err
}

// remove removes a container, and the NAT rules its CNI network left: the
// CNI bridge plugin finds the rules to delete from the addresses of the
// container's eth0, and runsc has moved those into its own network stack,
// so podman's teardown leaves them behind.
func (p *podman) remove(ctx context.Context, id string) error {
	_, err := command(ctx, "podman", p.args("rm", "-f", id)...)
	n, cerr := removeCNIRules(ctx, id)
	p.leaked += n
	return errors.Join(err, cerr)
}

func (p *podman) createFirstExec(ctx context.Context) (trial, error) {
	t0 := time.Now()
	id, err := p.start(ctx)
	if err != nil {
		// A failed run can leave a created container: remove by label.
		return trial{remove: p.removeAll}, fmt.Errorf("podman run: %w", err)
	}
	t1 := time.Now()
	tr := trial{remove: func(ctx context.Context) error { return p.remove(ctx, id) }}
	if err := p.exec(ctx, id); err != nil {
		return tr, fmt.Errorf("podman exec: %w", err)
	}
	tr.total = time.Since(t0)
	tr.phases = []phase{{"podman run -d", t1.Sub(t0)}, {"first exec (podman exec)", time.Since(t1)}}
	return tr, nil
}

// removeAll removes every container of this bench run.
func (p *podman) removeAll(ctx context.Context) error {
	out, err := command(ctx, "podman", "ps", "-aq", "--no-trunc", "--filter", "label="+p.label)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range strings.Fields(out) {
		errs = append(errs, p.remove(ctx, id))
	}
	return errors.Join(errs...)
}

// close removes this run's containers, and podman's bridge and firewall
// chains if they were not there before the bench.
func (p *podman) close(ctx context.Context) error {
	errs := []error{p.removeAll(ctx)}
	if !p.hadBridge {
		errs = append(errs, deleteLink(ctx, cniBridge))
	}
	if !p.hadChains {
		errs = append(errs, deleteJumps(ctx, "filter", "FORWARD", "CNI-FORWARD"))
		for _, c := range []string{"CNI-FORWARD", "CNI-ADMIN"} {
			errs = append(errs, deleteChain(ctx, "filter", c))
		}
	}
	return errors.Join(errs...)
}

// removeCNIRules deletes the NAT chains CNI made for container id and the
// POSTROUTING rules that jump to them, and returns how many chains it found.
func removeCNIRules(ctx context.Context, id string) (int, error) {
	chains, err := cniChains(ctx, id)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, c := range chains {
		errs = append(errs, deleteJumps(ctx, "nat", "POSTROUTING", c), deleteChain(ctx, "nat", c))
	}
	return len(chains), errors.Join(errs...)
}

// cniChains lists the NAT chains with rules for container id.
func cniChains(ctx context.Context, id string) ([]string, error) {
	out, err := command(ctx, "iptables", "-w", "-t", "nat", "-S")
	if err != nil {
		return nil, err
	}
	var chains []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == "-A" && f[1] != "POSTROUTING" && strings.Contains(line, id) && !slices.Contains(chains, f[1]) {
			chains = append(chains, f[1])
		}
	}
	return chains, nil
}

// deleteJumps deletes the rules of chain that jump to target, by number,
// last first.
func deleteJumps(ctx context.Context, table, chain, target string) error {
	out, err := command(ctx, "iptables", "-w", "-t", table, "-n", "-L", chain, "--line-numbers")
	if err != nil {
		return nil // no such chain
	}
	var nums []int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[1] == target {
			if n, err := strconv.Atoi(f[0]); err == nil {
				nums = append(nums, n)
			}
		}
	}
	slices.Sort(nums)
	var errs []error
	for _, n := range slices.Backward(nums) {
		_, err := command(ctx, "iptables", "-w", "-t", table, "-D", chain, strconv.Itoa(n))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteChain flushes and deletes a chain if it exists.
func deleteChain(ctx context.Context, table, chain string) error {
	if _, err := command(ctx, "iptables", "-w", "-t", table, "-S", chain); err != nil {
		return nil
	}
	if _, err := command(ctx, "iptables", "-w", "-t", table, "-F", chain); err != nil {
		return err
	}
	_, err := command(ctx, "iptables", "-w", "-t", table, "-X", chain)
	return err
}
