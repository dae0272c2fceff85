package network

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// The tests below run as root against the real kernel. Each makes its own
// bridge and subnet and removes them at the end.

func TestSandboxesCannotReachEachOther(t *testing.T) {
	m := newTestManager(t)
	_, _, nsA := setupSandbox(t, m, 2)
	_, ipB, nsB := setupSandbox(t, m, 3)
	portB := serve(t, nsB, ":0")
	atB := netip.AddrPortFrom(ipB, uint16(portB))

	mustReach(t, "", atB, "the host (daemon) connects into a sandbox")
	mustNotReach(t, nsA, atB, "on-link, layer 2 (port isolation)")

	// A sandbox that routes its neighbour through the gateway makes the host
	// forward bridge→bridge; the firewall must drop that.
	if err := inNetns(nsA, func() error {
		eth, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{
			LinkIndex: eth.Attrs().Index,
			Dst:       &net.IPNet{IP: ipB.AsSlice(), Mask: net.CIDRMask(32, 32)},
			Gw:        m.Gateway().AsSlice(),
		})
	}); err != nil {
		t.Fatal(err)
	}
	mustBeDroppedBy(t, m, "forward", "sandbox to sandbox", nsA, atB)

	t.Run("bridged frames meet the forward chain", func(t *testing.T) {
		if readFile(t, "/proc/sys/net/bridge/bridge-nf-call-iptables") != "1" {
			t.Skip("br_netfilter not loaded or bridge-nf-call-iptables off")
		}
		// Turn port isolation off to show the firewall alone also stops
		// bridged traffic between sandboxes (defence in depth).
		if err := inNetns(nsA, func() error {
			return netlink.RouteDel(&netlink.Route{Dst: &net.IPNet{IP: ipB.AsSlice(), Mask: net.CIDRMask(32, 32)}})
		}); err != nil {
			t.Fatal(err)
		}
		ids, _ := m.List(t.Context())
		for _, id := range ids {
			link, err := netlink.LinkByName(m.vethName(id))
			if err != nil {
				t.Fatal(err)
			}
			if err := netlink.LinkSetIsolated(link, false); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { netlink.LinkSetIsolated(link, true) })
		}
		mustBeDroppedBy(t, m, "forward", "sandbox to sandbox", nsA, atB)
	})
}

func TestHostServicesUnreachable(t *testing.T) {
	m := newTestManager(t)
	_, ipA, nsA := setupSandbox(t, m, 2)
	port := uint16(serve(t, "", "0.0.0.0:0"))
	primary := hostPrimaryIP(t)

	mustReach(t, "", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), "control")
	mustReach(t, "", netip.AddrPortFrom(primary, port), "control")
	mustBeDroppedBy(t, m, "input", "sandbox to host services", nsA, netip.AddrPortFrom(m.Gateway(), port))
	mustBeDroppedBy(t, m, "input", "sandbox to host services", nsA, netip.AddrPortFrom(primary, port))

	agent := uint16(serve(t, nsA, ":0"))
	mustReach(t, "", netip.AddrPortFrom(ipA, agent), "daemon to agent")
}

func TestNameserverOnHostAddressReachable(t *testing.T) {
	requireRoot(t)
	// The gateway as nameserver: a DNS cache bound to the host's address.
	probe := freeSubnet(t, 24)
	gateway := probe.Addr().Next()
	m := newTestManagerWithSubnet(t, probe, gateway)
	_, _, nsA := setupSandbox(t, m, 2)
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(gateway, 53).String())
	if err != nil {
		t.Skipf("cannot bind port 53 on the gateway: %v", err)
	}
	ln.Close()
	serve(t, "", netip.AddrPortFrom(gateway, 53).String())
	other := uint16(serve(t, "", netip.AddrPortFrom(gateway, 0).String()))
	mustReach(t, nsA, netip.AddrPortFrom(gateway, 53), "configured nameserver on a host address")
	mustBeDroppedBy(t, m, "input", "sandbox to host services", nsA, netip.AddrPortFrom(gateway, other))
}

// newTestManagerWithSubnet is newTestManager with a chosen subnet.
func newTestManagerWithSubnet(t *testing.T, subnet netip.Prefix, dns ...netip.Addr) *Manager {
	t.Helper()
	m, err := New(Config{Bridge: fmt.Sprintf("rtt%06x", rand.IntN(1<<24)), Subnet: subnet, DNS: dns}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	if err := m.Init(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLinkLocalUnreachable(t *testing.T) {
	requireRoot(t)
	// A stand-in metadata server on a link-local address, reachable from
	// the host, proves the drop is the firewall's doing. It also serves
	// port 53, and is configured as a nameserver, to prove that exception.
	third := byte(1 + rand.IntN(250))
	hostSide := netip.PrefixFrom(netip.AddrFrom4([4]byte{169, 254, third, 1}), 30)
	fake := netip.AddrFrom4([4]byte{169, 254, third, 2})
	m := newTestManager(t, hostDNS(t)[0], fake)
	_, _, nsA := setupSandbox(t, m, 2)
	peer := newPeer(t, m, "l", hostSide, fake)
	http := uint16(serve(t, peer, ":0"))
	serve(t, peer, ":53")

	mustReach(t, "", netip.AddrPortFrom(fake, http), "control: host reaches the stand-in")
	mustBeDroppedBy(t, m, "forward", "link-local and cloud metadata", nsA, netip.AddrPortFrom(fake, http))
	mustReach(t, nsA, netip.AddrPortFrom(fake, 53), "link-local address configured as nameserver, port 53")

	metadata := netip.MustParseAddrPort("169.254.169.254:80")
	if c, err := net.DialTimeout("tcp4", metadata.String(), time.Second); err == nil {
		c.Close()
		t.Logf("the host reaches %s; the sandbox must not", metadata)
	}
	before := ruleDrops(t, m, "forward", "link-local and cloud metadata")
	if err := inNetns(nsA, func() error {
		c, err := net.DialTimeout("tcp4", metadata.String(), dialTimeout)
		if err == nil {
			c.Close()
		}
		return err
	}); err == nil {
		t.Errorf("sandbox connected to %s", metadata)
	}
	if after := ruleDrops(t, m, "forward", "link-local and cloud metadata"); after <= before {
		t.Errorf("connecting to %s was not dropped by the link-local rule", metadata)
	}
}

func TestNoNewConnectionsFromOutside(t *testing.T) {
	m := newTestManager(t)
	_, ipA, nsA := setupSandbox(t, m, 2)
	outside := freeSubnet(t, 30)
	hostSide := netip.PrefixFrom(outside.Addr().Next(), 30)
	peerIP := hostSide.Addr().Next()
	peer := newPeer(t, m, "o", hostSide, peerIP)

	peerPort := uint16(serve(t, peer, ":0"))
	agent := uint16(serve(t, nsA, ":0"))
	mustReach(t, nsA, netip.AddrPortFrom(peerIP, peerPort), "control: sandbox egress to the outside machine")
	mustBeDroppedBy(t, m, "forward", "new connections into sandboxes", peer, netip.AddrPortFrom(ipA, agent))
	mustReach(t, "", netip.AddrPortFrom(ipA, agent), "host into a sandbox")
}

func TestEgressDNS(t *testing.T) {
	m := newTestManager(t)
	_, _, nsA := setupSandbox(t, m, 2)
	name, err := aptHost()
	if err != nil {
		t.Skip(err)
	}
	server := m.DNS()[0]
	if n, err := resolveA("", server, name); err != nil || n == 0 {
		t.Skipf("the host itself cannot resolve %s at %s: %d answers, %v", name, server, n, err)
	}
	n, err := resolveA(nsA, server, name)
	if err != nil {
		t.Fatalf("resolving %s at %s from the sandbox: %v", name, server, err)
	}
	if n == 0 {
		t.Fatalf("resolving %s at %s from the sandbox: no answers", name, server)
	}
	t.Logf("sandbox resolved %s at %s through NAT: %d answers", name, server, n)
}

func hostDNS(t *testing.T) []netip.Addr {
	dns, err := hostNameservers(resolvConf, systemdResolvConf)
	if err != nil {
		t.Skip(err)
	}
	return dns
}

func TestSetupResult(t *testing.T) {
	m := newTestManager(t)
	id, ip, nsPath := setupSandbox(t, m, 7)
	if want := filepath.Join("/run/netns", m.cfg.Bridge+"-"+id); nsPath != want {
		t.Errorf("nsPath = %s, want %s", nsPath, want)
	}
	br, err := netlink.LinkByName(m.cfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	if br.Attrs().MTU != uplinkMTU() {
		t.Errorf("bridge MTU = %d, want the uplink's %d", br.Attrs().MTU, uplinkMTU())
	}
	if br.Attrs().HardwareAddr.String() != bridgeMAC(m.cfg.Bridge).String() {
		t.Errorf("bridge MAC = %s, want the fixed %s", br.Attrs().HardwareAddr, bridgeMAC(m.cfg.Bridge))
	}
	host, err := netlink.LinkByName(m.vethName(id))
	if err != nil {
		t.Fatal(err)
	}
	if host.Attrs().MasterIndex != br.Attrs().Index {
		t.Error("veth not on the bridge")
	}
	if host.Attrs().Flags&net.FlagUp == 0 {
		t.Error("veth not up")
	}
	if pi, err := netlink.LinkGetProtinfo(host); err != nil || !pi.Isolated {
		t.Errorf("veth port isolated = %v (err %v)", pi.Isolated, err)
	}
	if err := inNetns(nsPath, func() error {
		eth, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		if eth.Attrs().MTU != uplinkMTU() {
			t.Errorf("eth0 MTU = %d, want the uplink's %d", eth.Attrs().MTU, uplinkMTU())
		}
		if eth.Attrs().Flags&net.FlagUp == 0 {
			t.Error("eth0 not up")
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if lo.Attrs().Flags&net.FlagUp == 0 {
			t.Error("lo not up")
		}
		checkInside(t, m, ip)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// checkInside checks, on a thread in the sandbox's namespace, that eth0
// has exactly ip and a default route via the gateway.
func checkInside(t *testing.T, m *Manager, ip netip.Addr) {
	t.Helper()
	eth, err := netlink.LinkByName("eth0")
	if err != nil {
		t.Error(err)
		return
	}
	addrs, err := netlink.AddrList(eth, netlink.FAMILY_V4)
	want := fmt.Sprintf("%s/%d", ip, m.cfg.Subnet.Bits())
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != want {
		t.Errorf("eth0 addresses = %v (err %v), want only %s", addrs, err, want)
	}
	routes, err := netlink.RouteList(eth, netlink.FAMILY_V4)
	if err != nil {
		t.Error(err)
		return
	}
	found := false
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == m.Gateway().String() {
			found = true
		}
	}
	if !found {
		t.Errorf("no default route via %s in %v", m.Gateway(), routes)
	}
}
