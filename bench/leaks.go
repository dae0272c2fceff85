package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/podman"
)

// findLeaks looks, after cleanup, for anything of the bench still on the
// host: namespaces, interfaces, firewall tables, podman containers and
// their NAT chains.
func findLeaks(ctx context.Context, cfg config, pm *podman.Podman) []string {
	var leaks []string
	if entries, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), cfg.bridge+"-") || strings.HasPrefix(e.Name(), cfg.rawBridge+"-") {
				leaks = append(leaks, "network namespace "+e.Name())
			}
		}
	}
	if ifcs, err := net.Interfaces(); err == nil {
		vethPrefix := cfg.bridge[:min(len(cfg.bridge), 6)] + "-" // the daemon's veth names
		for _, ifc := range ifcs {
			n := ifc.Name
			if n == cfg.bridge || n == cfg.rawBridge || strings.HasPrefix(n, vethPrefix) || strings.HasPrefix(n, cfg.rawBridge+"-") {
				leaks = append(leaks, "interface "+n)
			}
		}
	}
	if out, err := host.Command(ctx, "nft", "list", "tables"); err == nil && strings.Contains(out, "runtools_"+cfg.bridge) {
		leaks = append(leaks, "nft tables runtools_"+cfg.bridge)
	}
	if pm != nil {
		if out, err := host.Command(ctx, "podman", "ps", "-aq", "--filter", "label="+pm.Label); err == nil && strings.TrimSpace(out) != "" {
			leaks = append(leaks, "podman containers "+strings.Join(strings.Fields(out), " "))
		}
		for _, id := range pm.IDs {
			if chains, err := podman.CNIChains(ctx, id); err == nil && len(chains) > 0 {
				leaks = append(leaks, fmt.Sprintf("iptables nat chains %v of container %.12s", chains, id))
			}
		}
	}
	return leaks
}
