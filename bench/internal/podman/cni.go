package podman

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/runtools/runtools/bench/internal/host"
)

// removeCNIRules deletes the NAT chains CNI made for container id and the
// POSTROUTING rules that jump to them, and returns how many chains it found.
func removeCNIRules(ctx context.Context, id string) (int, error) {
	chains, err := CNIChains(ctx, id)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, c := range chains {
		errs = append(errs, deleteJumps(ctx, "nat", "POSTROUTING", c), deleteChain(ctx, "nat", c))
	}
	return len(chains), errors.Join(errs...)
}

// CNIChains lists the NAT chains with rules for container id.
func CNIChains(ctx context.Context, id string) ([]string, error) {
	out, err := host.Command(ctx, "iptables", "-w", "-t", "nat", "-S")
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
	out, err := host.Command(ctx, "iptables", "-w", "-t", table, "-n", "-L", chain, "--line-numbers")
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
		_, err := host.Command(ctx, "iptables", "-w", "-t", table, "-D", chain, strconv.Itoa(n))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteChain flushes and deletes a chain if it exists.
func deleteChain(ctx context.Context, table, chain string) error {
	if _, err := host.Command(ctx, "iptables", "-w", "-t", table, "-S", chain); err != nil {
		return nil
	}
	if _, err := host.Command(ctx, "iptables", "-w", "-t", table, "-F", chain); err != nil {
		return err
	}
	_, err := host.Command(ctx, "iptables", "-w", "-t", table, "-X", chain)
	return err
}
