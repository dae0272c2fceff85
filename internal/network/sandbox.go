package network

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/runtools/runtools/internal/errdefs"
)

// sandboxIface is the interface name inside every sandbox namespace.
const sandboxIface = "eth0"

// setupFault, set only by tests, runs after each step of Setup; an error
// from it fails Setup there, to prove that the undo stack leaves nothing.
var setupFault func(step string) error

func injectFault(step string) error {
	if setupFault == nil {
		return nil
	}
	return setupFault(step)
}

// Setup gives sandbox id the address ip in a network namespace of its own
// and returns the namespace's path, for the OCI spec's network namespace
// entry. Inside: eth0 with ip in the subnet, lo up, a default route via the
// gateway, the bridge's MTU. Outside: the veth's host end on the bridge,
// port-isolated, up.
//
// Setup converges: on a namespace or veth left by an earlier call it
// creates only what is missing, and it re-addresses eth0 if its address
// differs. On failure it removes what this call created.
func (m *Manager) Setup(ctx context.Context, id string, ip netip.Addr) (nsPath string, err error) {
	ip = ip.Unmap()
	if err := m.checkSandbox(id, ip); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	nsPath, err = m.setup(ctx, m.log.With("sandbox", id, "ip", ip), id, ip)
	if err != nil {
		return "", fmt.Errorf("setting up network of sandbox %s: %w", id, err)
	}
	return nsPath, nil
}

// setup does Setup's work for a validated id and address.
func (m *Manager) setup(ctx context.Context, log *slog.Logger, id string, ip netip.Addr) (string, error) {
	start := time.Now()
	br, err := m.bridgeLink()
	if err != nil {
		return "", err
	}

	var undo undoStack
	defer undo.rollback(ctx, log)

	name, path := m.nsName(id), m.nsPath(id)
	ns, created, err := openOrCreateNetns(name, path)
	if err != nil {
		return "", err
	}
	defer ns.Close()
	if created {
		undo.push("delete namespace "+name, func() error { return deleteNamedNetns(name) })
	}
	if err := injectFault("netns"); err != nil {
		return "", err
	}

	vethName := m.vethName(id)
	host, err := lookupLink(vethName)
	if err != nil {
		return "", err
	}
	if host != nil && created {
		// Its peer cannot be in the namespace just made: a leftover.
		log.WarnContext(ctx, "replacing stale veth", "veth", vethName)
		if err := deleteLink(vethName); err != nil {
			return "", err
		}
		host = nil
	}
	if host == nil {
		host, err = createVeth(vethName, m.mtu, ns)
		if err != nil {
			return "", err
		}
		undo.push("delete veth "+vethName, func() error { return deleteLink(vethName) })
	} else if host.Type() != "veth" {
		return "", fmt.Errorf("interface %s exists and is a %s, not a veth: %w", vethName, host.Type(), errdefs.ErrConflict)
	}
	if err := injectFault("veth"); err != nil {
		return "", err
	}
	if err := attachPort(host, br); err != nil {
		return "", err
	}
	if err := injectFault("attach"); err != nil {
		return "", err
	}
	if err := m.configureInside(ctx, log, ns, ip, !created); err != nil {
		return "", err
	}
	if err := pin(host, br, ip); err != nil {
		return "", err
	}
	if err := waitReady(ctx, log, m.cfg.Bridge, vethName); err != nil {
		return "", err
	}
	if err := injectFault("inside"); err != nil {
		return "", err
	}

	undo.release()
	log.DebugContext(ctx, "sandbox network set up", "netns", path, "veth", vethName, "reused", !created, "took", time.Since(start))
	return path, nil
}

// Restore puts ip and the default route back on eth0 inside the sandbox's
// existing namespace. gVisor moves the interface's address into its own
// network stack when it starts, so this must run before restoring a
// checkpoint into the namespace. It is idempotent.
func (m *Manager) Restore(ctx context.Context, id string, ip netip.Addr) error {
	ip = ip.Unmap()
	if err := m.checkSandbox(id, ip); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := m.nsPath(id)
	ok, err := isNetns(path)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("restoring network of sandbox %s: no namespace at %s: %w", id, path, errdefs.ErrNotFound)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer ns.Close()
	if err := m.configureInside(ctx, m.log.With("sandbox", id), ns, ip, true); err != nil {
		return fmt.Errorf("restoring network of sandbox %s: %w", id, err)
	}
	m.log.DebugContext(ctx, "sandbox address restored", "sandbox", id, "ip", ip)
	return nil
}

// Teardown takes the sandbox out of the firewall and removes its veth and
// namespace. It succeeds if they are already gone.
func (m *Manager) Teardown(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Delete the veth explicitly rather than with the namespace: the kernel
	// destroys a namespace's devices asynchronously, and the host end would
	// linger on the bridge for a while.
	var errs []error
	if err := m.forget(ctx, id); err != nil {
		errs = append(errs, err)
	}
	if err := deleteLink(m.vethName(id)); err != nil {
		errs = append(errs, err)
	}
	if err := deleteNamedNetns(m.nsName(id)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tearing down network of sandbox %s: %w", id, err)
	}
	m.log.DebugContext(ctx, "sandbox network torn down", "sandbox", id)
	return nil
}

// List returns, sorted, the ids of the sandboxes that have a namespace made
// by this Manager (one with the same bridge), including half-made ones, so
// the daemon can tear down those it has no record of.
func (m *Manager) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing network namespaces: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if id, ok := m.idFromNSName(e.Name()); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// checkSandbox validates a sandbox id and the address it asks for.
func (m *Manager) checkSandbox(id string, ip netip.Addr) error {
	if err := checkID(id); err != nil {
		return err
	}
	if !m.isHost(ip) {
		return fmt.Errorf("address %s for sandbox %s: not a host address of %s other than the gateway %s: %w",
			ip, id, m.cfg.Subnet, m.gateway, errdefs.ErrInvalidArgument)
	}
	return nil
}

// openOrCreateNetns returns a handle to the namespace at path, creating it
// (and reporting so) if it does not exist. A stale file that is not a
// mounted namespace is replaced.
func openOrCreateNetns(name, path string) (ns netns.NsHandle, created bool, err error) {
	ok, err := isNetns(path)
	if err != nil {
		return netns.None(), false, err
	}
	if ok {
		ns, err := netns.GetFromPath(path)
		if err != nil {
			return netns.None(), false, fmt.Errorf("opening network namespace %s: %w", path, err)
		}
		return ns, false, nil
	}
	if err := deleteNamedNetns(name); err != nil { // a crash's leftover, if any
		return netns.None(), false, err
	}
	ns, err = newNamedNetns(name)
	if err != nil {
		return netns.None(), false, err
	}
	return ns, true, nil
}

// configureInside brings up lo and eth0 in ns, gives eth0 ip (removing any
// other IPv4 address first if clean is set) and routes by default through
// the gateway.
func (m *Manager) configureInside(ctx context.Context, log *slog.Logger, ns netns.NsHandle, ip netip.Addr, clean bool) error {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("opening netlink in sandbox namespace: %w", err)
	}
	defer h.Close()

	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("looking up lo in sandbox namespace: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bringing up lo in sandbox namespace: %w", err)
	}
	eth, err := h.LinkByName(sandboxIface)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return fmt.Errorf("no %s in sandbox namespace: %w", sandboxIface, errdefs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("looking up %s in sandbox namespace: %w", sandboxIface, err)
	}
	want := &netlink.Addr{IPNet: &net.IPNet{
		IP:   ip.AsSlice(),
		Mask: net.CIDRMask(m.cfg.Subnet.Bits(), 32),
	}}
	if clean {
		addrs, err := h.AddrList(eth, netlink.FAMILY_V4)
		if err != nil {
			return fmt.Errorf("listing addresses of %s: %w", sandboxIface, err)
		}
		for _, a := range addrs {
			if a.IPNet.String() == want.IPNet.String() {
				continue
			}
			if err := h.AddrDel(eth, &a); err != nil {
				return fmt.Errorf("removing stale address %s from %s: %w", a.IPNet, sandboxIface, err)
			}
			log.WarnContext(ctx, "removed stale sandbox address", "addr", a.IPNet.String())
		}
	}
	// The MAC follows from the address. The host keeps neighbour entries
	// for a while after a sandbox goes; a new sandbox given the same
	// address must answer to the same MAC, or the host would go on sending
	// to the old one (gVisor does not announce itself with gratuitous ARP).
	if mac := macFor(ip); eth.Attrs().HardwareAddr.String() != mac.String() {
		if err := h.LinkSetHardwareAddr(eth, mac); err != nil {
			return fmt.Errorf("setting the MAC of %s: %w", sandboxIface, err)
		}
	}
	if err := h.AddrReplace(eth, want); err != nil {
		return fmt.Errorf("adding %s to %s: %w", want.IPNet, sandboxIface, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("bringing up %s: %w", sandboxIface, err)
	}
	route := &netlink.Route{
		LinkIndex: eth.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Gw:        m.gateway.AsSlice(),
	}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("adding default route via %s: %w", m.gateway, err)
	}
	return nil
}

// macFor returns the locally administered MAC a sandbox address gets:
// 02:72 followed by the four address bytes.
func macFor(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x02, 0x72, a[0], a[1], a[2], a[3]}
}
