package raw

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/runtools/runtools/bench/internal/host"
)

// Net is the raw runsc sandboxes' network, made with iproute2 the way the
// daemon makes its own with netlink: a bridge with the gateway address,
// and per sandbox a namespace with a veth pair, the host end an isolated
// port of the bridge, the other end eth0 with an address and a default
// route.
type Net struct {
	bridge string
	prefix netip.Prefix
	gw     netip.Addr
	mtu    int
}

// NewNet makes the bridge. Like the daemon's, it has a fixed MAC (else
// the kernel gives it the lowest MAC of its ports, and the gateway's MAC
// would change under a restored sandbox as other sandboxes come and go)
// and no IPv6 (the host's neighbour discovery would reach the sandboxes).
// RemoveNet undoes it, also when it fails half way.
func NewNet(ctx context.Context, bridge string, prefix netip.Prefix) (*Net, error) {
	n := &Net{bridge: bridge, prefix: prefix.Masked(), mtu: uplinkMTU(ctx)}
	n.gw = n.prefix.Addr().Next()
	script := fmt.Sprintf("link add %s address %s mtu %d type bridge\naddr add %s/%d dev %s\nlink set %s up\n",
		bridge, bridgeMAC(bridge), n.mtu, n.gw, n.prefix.Bits(), bridge, bridge)
	if _, err := host.CommandInput(ctx, script, "ip", "-batch", "-"); err != nil {
		return nil, fmt.Errorf("making bridge %s: %w", bridge, err)
	}
	v6 := "/proc/sys/net/ipv6/conf/" + bridge + "/disable_ipv6"
	if err := os.WriteFile(v6, []byte("1\n"), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, fmt.Errorf("disabling IPv6 on bridge %s: %w", bridge, err)
	}
	return n, nil
}

// RemoveNet removes the bridge and any namespace of its sandboxes still
// there.
func RemoveNet(ctx context.Context, bridge string) error {
	return errors.Join(host.RemoveNetns(ctx, bridge+"-"), host.DeleteLink(ctx, bridge))
}

// addr is the address of the seq-th sandbox.
func (n *Net) addr(seq int) netip.Addr {
	ip := n.gw
	for range (seq-1)%250 + 1 {
		ip = ip.Next()
	}
	return ip
}

// add makes the namespace and veth of the seq-th sandbox and returns their
// names.
func (n *Net) add(ctx context.Context, seq int) (ns, veth string, err error) {
	ns, veth = fmt.Sprintf("%s-%d", n.bridge, seq), fmt.Sprintf("%s-%d", n.bridge, seq)
	ip := n.addr(seq)
	if _, err := host.Command(ctx, "ip", "netns", "add", ns); err != nil {
		return "", "", err
	}
	hostSide := fmt.Sprintf("link add %s mtu %d type veth peer name eth0 netns %s\n", veth, n.mtu, ns) +
		fmt.Sprintf("link set %s master %s\nlink set %s type bridge_slave isolated on\nlink set %s up\n", veth, n.bridge, veth, veth)
	if _, err := host.CommandInput(ctx, hostSide, "ip", "-batch", "-"); err != nil {
		return ns, veth, err
	}
	inside := fmt.Sprintf("addr add %s/%d dev eth0\nlink set lo up\nlink set eth0 up\nroute add default via %s\n",
		ip, n.prefix.Bits(), n.gw)
	if _, err := host.CommandInput(ctx, inside, "ip", "-n", ns, "-batch", "-"); err != nil {
		return ns, veth, err
	}
	return ns, veth, nil
}

// remove deletes a sandbox's veth and namespace; missing ones are fine.
func (n *Net) remove(ctx context.Context, ns, veth string) error {
	return errors.Join(host.DeleteLink(ctx, veth), host.DeleteNetns(ctx, ns))
}

// uplinkMTU is the MTU of the interface with the default route, as the
// daemon gives its bridge; 1500 if it cannot tell.
func uplinkMTU(ctx context.Context) int {
	out, err := host.Command(ctx, "ip", "-4", "-o", "route", "show", "default")
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
