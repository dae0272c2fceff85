package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
)

// rawNet is the raw runsc sandboxes' network, made with iproute2 the way
// the daemon makes its own with netlink: a bridge with the gateway address,
// and per sandbox a namespace with a veth pair, the host end an isolated
// port of the bridge, the other end eth0 with an address and a default route.
type rawNet struct {
	bridge string
	prefix netip.Prefix
	gw     netip.Addr
	mtu    int
}

// newRawNet makes the bridge. Like the daemon's, it has a fixed MAC (else
// the kernel gives it the lowest MAC of its ports, and the gateway's MAC
// would change under a restored sandbox as other sandboxes come and go)
// and no IPv6 (the host's neighbour discovery would reach the sandboxes).
func newRawNet(ctx context.Context, bridge string, prefix netip.Prefix) (*rawNet, error) {
	n := &rawNet{bridge: bridge, prefix: prefix.Masked(), mtu: uplinkMTU(ctx)}
	n.gw = n.prefix.Addr().Next()
	script := fmt.Sprintf("link add %s address %s mtu %d type bridge\naddr add %s/%d dev %s\nlink set %s up\n",
		bridge, bridgeMAC(bridge), n.mtu, n.gw, n.prefix.Bits(), bridge, bridge)
	if _, err := commandInput(ctx, script, "ip", "-batch", "-"); err != nil {
		return nil, fmt.Errorf("making bridge %s: %w", bridge, err)
	}
	v6 := "/proc/sys/net/ipv6/conf/" + bridge + "/disable_ipv6"
	if err := os.WriteFile(v6, []byte("1\n"), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, fmt.Errorf("disabling IPv6 on bridge %s: %w", bridge, err)
	}
	return n, nil
}

// addr is the address of the seq-th sandbox.
func (n *rawNet) addr(seq int) netip.Addr {
	ip := n.gw
	for range (seq-1)%250 + 1 {
		ip = ip.Next()
	}
	return ip
}

// add makes the namespace and veth of the seq-th sandbox and returns their
// names.
func (n *rawNet) add(ctx context.Context, seq int) (ns, veth string, err error) {
	ns, veth = fmt.Sprintf("%s-%d", n.bridge, seq), fmt.Sprintf("%s-%d", n.bridge, seq)
	ip := n.addr(seq)
	if _, err := command(ctx, "ip", "netns", "add", ns); err != nil {
		return "", "", err
	}
	host := fmt.Sprintf("link add %s mtu %d type veth peer name eth0 netns %s\n", veth, n.mtu, ns) +
		fmt.Sprintf("link set %s master %s\nlink set %s type bridge_slave isolated on\nlink set %s up\n", veth, n.bridge, veth, veth)
	if _, err := commandInput(ctx, host, "ip", "-batch", "-"); err != nil {
		return ns, veth, err
	}
	inside := fmt.Sprintf("addr add %s/%d dev eth0\nlink set lo up\nlink set eth0 up\nroute add default via %s\n",
		ip, n.prefix.Bits(), n.gw)
	if _, err := commandInput(ctx, inside, "ip", "-n", ns, "-batch", "-"); err != nil {
		return ns, veth, err
	}
	return ns, veth, nil
}

// remove deletes a sandbox's veth and namespace; missing ones are fine.
func (n *rawNet) remove(ctx context.Context, ns, veth string) error {
	return errors.Join(deleteLink(ctx, veth), deleteNetns(ctx, ns))
}

// close removes the bridge and any namespace of ours still there.
func (n *rawNet) close(ctx context.Context) error {
	return errors.Join(removeNetns(ctx, n.bridge+"-"), deleteLink(ctx, n.bridge))
}

// deleteLink deletes an interface if it exists.
func deleteLink(ctx context.Context, name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	_, err := command(ctx, "ip", "link", "del", name)
	return err
}

// deleteNetns deletes a named network namespace if it exists.
func deleteNetns(ctx context.Context, name string) error {
	if _, err := os.Stat("/run/netns/" + name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_, err := command(ctx, "ip", "netns", "del", name)
	return err
}

// removeNetns deletes every named network namespace whose name starts
// with prefix.
func removeNetns(ctx context.Context, prefix string) error {
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing network namespaces: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			errs = append(errs, deleteNetns(ctx, e.Name()))
		}
	}
	return errors.Join(errs...)
}

// uplinkMTU is the MTU of the interface with the default route, as the
// daemon gives its bridge; 1500 if it cannot tell.
func uplinkMTU(ctx context.Context) int {
	out, err := command(ctx, "ip", "-4", "-o", "route", "show", "default")
	if err != nil {
		return 1500
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "dev" {
			if ifc, err := net.InterfaceByName(f[i+1]); err == nil {
				return ifc.MTU
			}
		}
	}
	return 1500
}

// checkSubnetFree fails if an interface other than bridge already has an
// address in prefix: the bench would route over someone else's network.
func checkSubnetFree(prefix netip.Prefix, bridge string) error {
	ifcs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	for _, ifc := range ifcs {
		if ifc.Name == bridge {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err == nil && p.Overlaps(prefix) {
				return fmt.Errorf("subnet %s overlaps %s on %s: pick another with -subnet/-raw-subnet", prefix, p, ifc.Name)
			}
		}
	}
	return nil
}
