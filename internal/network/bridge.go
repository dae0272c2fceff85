package network

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/runtools/runtools/internal/errdefs"
)

const ipForwardSysctl = "/proc/sys/net/ipv4/ip_forward"

// Init makes the host ready for sandboxes: the bridge exists and is up with
// the gateway address, IPv4 forwarding and proxy ARP are on and the
// firewall is loaded with members in it (our tables replaced atomically,
// so a sandbox's policy never lapses across a restart). It is idempotent
// and meant to run on every daemon start. On failure it undoes what it
// changed.
func (m *Manager) Init(ctx context.Context, members []Member) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.checkSubnetFree(); err != nil {
		return err
	}
	var undo undoStack
	defer undo.rollback(ctx, m.log)

	if ok, err := ensureNetnsMount(); err != nil {
		return err
	} else if !ok {
		m.log.WarnContext(ctx, "network namespaces are mounted in "+netnsDir+", which is not a mount point: a later first `ip netns add` on this host would leave them unremovable; a reboot ends this",
			"dir", netnsDir)
	}
	br, created, err := m.ensureBridge()
	if err != nil {
		return err
	}
	if created {
		undo.push("delete bridge "+m.cfg.Bridge, func() error { return deleteLink(m.cfg.Bridge) })
	}
	m.mtu = uplinkMTU()
	if br, err = pinMTU(br, m.mtu); err != nil {
		return err
	}
	if err := m.ensureGateway(ctx, br); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return fmt.Errorf("bringing up bridge %s: %w", m.cfg.Bridge, err)
	}
	// No IPv6 on the bridge: sandboxes get IPv4 only, and the host's own
	// neighbour discovery and router solicitations would otherwise reach
	// every sandbox (see quiet).
	v6 := "/proc/sys/net/ipv6/conf/" + m.cfg.Bridge + "/disable_ipv6"
	if err := os.WriteFile(v6, []byte("1\n"), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disabling IPv6 on bridge %s: %w", m.cfg.Bridge, err)
	}

	old, err := os.ReadFile(ipForwardSysctl)
	if err != nil {
		return fmt.Errorf("reading %s: %w", ipForwardSysctl, err)
	}
	if string(bytes.TrimSpace(old)) != "1" {
		if err := os.WriteFile(ipForwardSysctl, []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("enabling IPv4 forwarding: %w", err)
		}
		undo.push("restore "+ipForwardSysctl, func() error { return os.WriteFile(ipForwardSysctl, old, 0o644) })
		m.log.InfoContext(ctx, "enabled IPv4 forwarding", "sysctl", "net.ipv4.ip_forward")
	}

	if err := m.proxyARP(); err != nil {
		return err
	}

	if err := m.loadFirewall(ctx, members); err != nil {
		return err
	}
	undo.release()
	m.log.InfoContext(ctx, "sandbox network ready",
		"subnet", m.cfg.Subnet, "gateway", m.gateway, "mtu", br.Attrs().MTU, "dns", m.cfg.DNS, "created_bridge", created)
	return nil
}

// loadFirewall replaces runtools' tables with its rules and members, in
// one transaction, and remembers the members.
func (m *Manager) loadFirewall(ctx context.Context, members []Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var script strings.Builder
	script.WriteString(rules(m.cfg))
	clear(m.members)
	clear(m.byIP)
	for _, mb := range members {
		mb.IP = mb.IP.Unmap()
		if err := m.checkSandbox(mb.ID, mb.IP); err != nil {
			return err
		}
		m.writeAdd(&script, mb)
	}
	if err := nft(ctx, script.String()); err != nil {
		return fmt.Errorf("loading firewall: %w", err)
	}
	for _, mb := range members {
		mb.IP = mb.IP.Unmap()
		m.remember(mb)
	}
	return nil
}

// proxyARP has the host answer ARP on the bridge for every address, even
// back out of the port asking (proxy_arp_pvlan), at once (proxy_delay 0),
// and never redirect: sandboxes cannot reach each other at layer 2 (port
// isolation), so this routes their traffic through the host's firewall.
func (m *Manager) proxyARP() error {
	for _, s := range []struct{ path, value string }{
		{"/proc/sys/net/ipv4/conf/" + m.cfg.Bridge + "/proxy_arp", "1"},
		{"/proc/sys/net/ipv4/conf/" + m.cfg.Bridge + "/proxy_arp_pvlan", "1"},
		{"/proc/sys/net/ipv4/conf/" + m.cfg.Bridge + "/send_redirects", "0"},
		{"/proc/sys/net/ipv4/neigh/" + m.cfg.Bridge + "/proxy_delay", "0"},
	} {
		if err := os.WriteFile(s.path, []byte(s.value+"\n"), 0o644); err != nil {
			return fmt.Errorf("routing between sandboxes through the host: %w", err)
		}
	}
	return nil
}

// Close removes our firewall tables and the bridge. Namespaces left (see
// List) lose their connection to the bridge; Teardown them first. The
// daemon does not call Close on a normal stop: sandboxes keep running
// across daemon restarts.
func (m *Manager) Close(ctx context.Context) error {
	if err := Remove(ctx, m.cfg.Bridge); err != nil {
		return err
	}
	m.log.InfoContext(ctx, "sandbox network removed")
	return nil
}

// Remove removes the firewall tables and the bridge that a Manager of
// bridge made, without one: those of a server that has stopped.
func Remove(ctx context.Context, bridge string) error {
	var errs []error
	if err := nft(ctx, removeRules(bridge)); err != nil {
		errs = append(errs, fmt.Errorf("removing firewall: %w", err))
	}
	if err := deleteLink(bridge); err != nil {
		errs = append(errs, fmt.Errorf("removing bridge: %w", err))
	}
	return errors.Join(errs...)
}

// bridgeLink returns the bridge, or ErrUnavailable if Init has not made it.
func (m *Manager) bridgeLink() (netlink.Link, error) {
	br, err := lookupLink(m.cfg.Bridge)
	if err != nil {
		return nil, err
	}
	if br == nil {
		return nil, fmt.Errorf("bridge %s does not exist (Init not run?): %w", m.cfg.Bridge, errdefs.ErrUnavailable)
	}
	return br, nil
}

// checkSubnetFree fails with ErrConflict if a route of the host other
// than the default route and our bridge's own overlaps the subnet: another
// bridge on the same network (Podman's default CNI network is also
// 10.88.0.0/16) would make routing to sandboxes ambiguous.
func (m *Manager) checkSubnetFree() error {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("listing routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.LinkIndex == 0 {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		dst, ok := netip.AddrFromSlice(r.Dst.IP)
		if !ok || ones == 0 || !netip.PrefixFrom(dst.Unmap(), ones).Overlaps(m.cfg.Subnet) {
			continue
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			return fmt.Errorf("looking up interface of route %s: %w", r.Dst, err)
		}
		if link.Attrs().Name == m.cfg.Bridge {
			continue
		}
		return fmt.Errorf("subnet %s overlaps route %s on %s; configure another subnet: %w",
			m.cfg.Subnet, r.Dst, link.Attrs().Name, errdefs.ErrConflict)
	}
	return nil
}

// ensureBridge returns the bridge, creating it if needed. A new bridge gets
// the MTU of the host's default-route interface, so sandbox traffic fits
// the uplink, and a fixed MAC address; otherwise the kernel would give it
// the lowest MAC of its ports, and the sandboxes' gateway MAC would change
// whenever a sandbox comes or goes.
func (m *Manager) ensureBridge() (br netlink.Link, created bool, err error) {
	name := m.cfg.Bridge
	br, err = lookupLink(name)
	if err != nil {
		return nil, false, err
	}
	if br != nil {
		if br.Type() != "bridge" {
			return nil, false, fmt.Errorf("interface %s exists and is a %s, not a bridge: %w", name, br.Type(), errdefs.ErrConflict)
		}
		return br, false, nil
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.MTU = uplinkMTU()
	attrs.HardwareAddr = bridgeMAC(name)
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
		return nil, false, fmt.Errorf("creating bridge %s: %w", name, err)
	}
	br, err = netlink.LinkByName(name)
	if err != nil {
		_ = deleteLink(name)
		return nil, false, fmt.Errorf("looking up new bridge %s: %w", name, err)
	}
	return br, true, nil
}

// pinMTU sets the bridge's MTU to mtu, the uplink's. The kernel makes a
// bridge's MTU its ports' smallest, and 1500 once it has none, so the
// bridge's own is no guide for a new sandbox's veth: that takes the
// manager's, and the bridge follows its ports.
func pinMTU(br netlink.Link, mtu int) (netlink.Link, error) {
	if err := netlink.LinkSetMTU(br, mtu); err != nil {
		return nil, fmt.Errorf("setting the MTU of bridge %s to the uplink's %d: %w", br.Attrs().Name, mtu, err)
	}
	return netlink.LinkByName(br.Attrs().Name)
}

// ensureGateway leaves the gateway address, with the subnet's prefix
// length, as the bridge's only IPv4 address.
func (m *Manager) ensureGateway(ctx context.Context, br netlink.Link) error {
	want := &netlink.Addr{IPNet: &net.IPNet{
		IP:   m.gateway.AsSlice(),
		Mask: net.CIDRMask(m.cfg.Subnet.Bits(), 32),
	}}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("listing addresses of bridge %s: %w", m.cfg.Bridge, err)
	}
	for _, a := range addrs {
		if a.IPNet.String() == want.IPNet.String() {
			continue
		}
		if err := netlink.AddrDel(br, &a); err != nil {
			return fmt.Errorf("removing stale address %s from bridge %s: %w", a.IPNet, m.cfg.Bridge, err)
		}
		m.log.WarnContext(ctx, "removed stale bridge address", "addr", a.IPNet.String())
	}
	if err := netlink.AddrReplace(br, want); err != nil {
		return fmt.Errorf("adding gateway %s to bridge %s: %w", want.IPNet, m.cfg.Bridge, err)
	}
	return nil
}

// uplinkMTU returns the smallest MTU among the interfaces of the host's
// IPv4 default routes, or 1500 if there is none.
func uplinkMTU() int {
	mtu := 0
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return 1500
	}
	for _, r := range routes {
		if r.Dst != nil && r.Dst.String() != "0.0.0.0/0" || r.LinkIndex == 0 {
			continue
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			continue
		}
		if m := link.Attrs().MTU; m > 0 && (mtu == 0 || m < mtu) {
			mtu = m
		}
	}
	if mtu == 0 {
		return 1500
	}
	return mtu
}

// bridgeMAC derives a stable, locally administered unicast MAC address
// from the bridge name.
func bridgeMAC(name string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("runtools bridge " + name))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}
