package raw

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"

	"github.com/runtools/runtools/bench/internal/host"
)

// A raw sandbox that is checkpointed and restored gets its network the way
// the daemon pins its own (internal/network: pin, quiet, macFor). A
// restored gVisor stops receiving after any frame for a MAC other than its
// own, and gVisor does not announce itself, so the sandbox keeps one MAC
// for good and the host never needs to ask for it or learn it.

// macFor is the MAC a sandbox address gets, as the daemon derives it:
// 02:72 followed by the four address bytes.
func macFor(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x02, 0x72, a[0], a[1], a[2], a[3]}
}

// bridgeMAC is a stable, locally administered unicast MAC for a bridge,
// derived from its name as the daemon does.
func bridgeMAC(name string) net.HardwareAddr {
	sum := sha256.Sum256([]byte(name))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}

// pin gives eth0 in ns the fixed MAC of ip, keeps every frame that is not
// for that MAC off the veth's bridge port (no flooding, no learning, a
// static forwarding entry instead), and makes the host's neighbour entry
// for ip permanent, pointing at that MAC. It must run before runsc starts:
// gVisor takes eth0's MAC (and address) over when it does.
func (n *Net) pin(ctx context.Context, ns, veth string, ip netip.Addr) error {
	mac := macFor(ip)
	if _, err := host.Command(ctx, "ip", "-n", ns, "link", "set", "eth0", "address", mac.String()); err != nil {
		return fmt.Errorf("setting the MAC of eth0 in %s: %w", ns, err)
	}
	script := fmt.Sprintf("link set %s type bridge_slave flood off learning off\nneigh replace %s lladdr %s dev %s nud permanent\n",
		veth, ip, mac, n.bridge)
	if _, err := host.CommandInput(ctx, script, "ip", "-batch", "-"); err != nil {
		return fmt.Errorf("pinning %s on bridge %s: %w", ip, n.bridge, err)
	}
	if _, err := host.Command(ctx, "bridge", "fdb", "replace", mac.String(), "dev", veth, "master", "static"); err != nil {
		return fmt.Errorf("adding the bridge entry for %s: %w", mac, err)
	}
	return nil
}

// readdress puts ip and the default route back on eth0 in ns: gVisor takes
// the address away from the interface when it starts, so a restore into the
// same namespace needs them again (the daemon's network.Restore).
func (n *Net) readdress(ctx context.Context, ns string, ip netip.Addr) error {
	script := fmt.Sprintf("addr replace %s/%d dev eth0\nlink set eth0 up\nroute replace default via %s\n", ip, n.prefix.Bits(), n.gw)
	if _, err := host.CommandInput(ctx, script, "ip", "-n", ns, "-batch", "-"); err != nil {
		return fmt.Errorf("re-addressing eth0 in %s: %w", ns, err)
	}
	return nil
}

// unpin deletes the host's permanent neighbour entry for ip, if any.
func (n *Net) unpin(ctx context.Context, ip netip.Addr) error {
	out, err := host.Command(ctx, "ip", "neigh", "show", ip.String(), "dev", n.bridge)
	if err != nil || out == "" {
		return err
	}
	_, err = host.Command(ctx, "ip", "neigh", "del", ip.String(), "dev", n.bridge)
	return err
}
