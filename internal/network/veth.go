package network

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// createVeth creates a veth pair with host end name in this namespace and
// peer eth0 directly in ns, both with the given MTU, and returns the host
// end. It is left down and unattached.
func createVeth(name string, mtu int, ns netns.NsHandle) (netlink.Link, error) {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.MTU = mtu
	veth := &netlink.Veth{
		LinkAttrs:     attrs,
		PeerName:      sandboxIface,
		PeerNamespace: netlink.NsFd(ns),
		PeerTxQLen:    -1,
		PeerMTU:       uint32(mtu),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("creating veth %s: %w", name, err)
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		_ = deleteLink(name)
		return nil, fmt.Errorf("looking up new veth %s: %w", name, err)
	}
	return link, nil
}

// attachPort puts the host end of a sandbox veth on the bridge, isolates
// it (isolated ports cannot exchange frames with each other, only with the
// bridge itself) and brings it up. Isolation is set before the port comes
// up so no frame ever crosses an unisolated port.
func attachPort(link, br netlink.Link) error {
	name := link.Attrs().Name
	if link.Attrs().MasterIndex != br.Attrs().Index {
		if err := netlink.LinkSetMasterByIndex(link, br.Attrs().Index); err != nil {
			return fmt.Errorf("attaching %s to bridge %s: %w", name, br.Attrs().Name, err)
		}
	}
	if err := netlink.LinkSetIsolated(link, true); err != nil {
		return fmt.Errorf("isolating bridge port %s: %w", name, err)
	}
	if err := quiet(link); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bringing up %s: %w", name, err)
	}
	return nil
}

// readyTimeout bounds waitReady; the kernel normally needs well under a
// millisecond.
const readyTimeout = 200 * time.Millisecond

// waitReady waits until the sandbox's bridge port forwards and the bridge
// itself is up. The host end of the veth comes up before its peer, so
// the kernel's link watcher, asynchronously, activates its queue and then
// enables its bridge port; the bridge's own queue is activated the same
// way when its first port comes up. Until then packets are dropped, and a
// dropped ARP or SYN costs the sender a one-second retransmission. On
// timeout waitReady logs and returns nil: the link will pass traffic, only
// later.
func waitReady(ctx context.Context, log *slog.Logger, bridge, port string) error {
	start := time.Now()
	statePath := filepath.Join("/sys/class/net", port, "brport", "state")
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		state, err := os.ReadFile(statePath)
		if err != nil {
			return fmt.Errorf("reading bridge port state of %s: %w", port, err)
		}
		forwarding := string(bytes.TrimSpace(state)) == brStateForwarding
		bridgeUp := false
		if forwarding {
			br, err := netlink.LinkByName(bridge)
			if err != nil {
				return fmt.Errorf("checking state of bridge %s: %w", bridge, err)
			}
			bridgeUp = br.Attrs().OperState == netlink.OperUp
		}
		if bridgeUp {
			return nil
		}
		if time.Since(start) > readyTimeout {
			log.WarnContext(ctx, "bridge port not forwarding yet; continuing",
				"port", port, "port_state", string(bytes.TrimSpace(state)), "waited", time.Since(start))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// brStateForwarding is BR_STATE_FORWARDING in a bridge port's sysfs state.
const brStateForwarding = "3"

// lookupLink returns the interface name, or nil if there is none.
func lookupLink(name string) (netlink.Link, error) {
	link, err := netlink.LinkByName(name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up interface %s: %w", name, err)
	}
	return link, nil
}

// deleteLink deletes the interface name; it succeeds if there is none.
func deleteLink(name string) error {
	link, err := lookupLink(name)
	if err != nil || link == nil {
		return err
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting interface %s: %w", name, err)
	}
	return nil
}

// quiet keeps every frame that is not the sandbox's own off its port: no
// flooding of unknown unicast to it and no learning on it (the port has a
// static entry for the sandbox's MAC instead, see pin). A sandbox restored
// from a checkpoint stops receiving altogether when a frame for another
// MAC reaches it (gVisor's receive loop gives up on a filtered frame;
// fixed upstream in google/gvisor#14448, after the runsc we pin), and
// a flooded frame for another sandbox is exactly that.
func quiet(link netlink.Link) error {
	name := link.Attrs().Name
	if err := netlink.LinkSetFlood(link, false); err != nil {
		return fmt.Errorf("turning off flooding on bridge port %s: %w", name, err)
	}
	if err := netlink.LinkSetLearning(link, false); err != nil {
		return fmt.Errorf("turning off learning on bridge port %s: %w", name, err)
	}
	return nil
}

// pin tells the bridge and the host where a sandbox is, for good: a static
// forwarding entry for its MAC on its port, and a permanent neighbour entry
// for its address on the bridge. Both follow from the address (see macFor),
// so they stay right across pauses and when the address is reused; they
// need no cleanup.
func pin(port, br netlink.Link, ip netip.Addr) error {
	mac := macFor(ip)
	fdb := &netlink.Neigh{
		LinkIndex:    port.Attrs().Index,
		Family:       unix.AF_BRIDGE,
		Flags:        netlink.NTF_MASTER,
		State:        netlink.NUD_NOARP,
		HardwareAddr: mac,
	}
	if err := netlink.NeighSet(fdb); err != nil {
		return fmt.Errorf("adding the bridge entry for %s: %w", mac, err)
	}
	nb := &netlink.Neigh{
		LinkIndex:    br.Attrs().Index,
		Family:       unix.AF_INET,
		State:        netlink.NUD_PERMANENT,
		IP:           ip.AsSlice(),
		HardwareAddr: mac,
	}
	if err := netlink.NeighSet(nb); err != nil {
		return fmt.Errorf("adding the neighbour entry for %s: %w", ip, err)
	}
	return nil
}
