package network

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/runtools/runtools/internal/errdefs"
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

func TestSetupTeardownIdempotent(t *testing.T) {
	m := newTestManager(t)
	ctx := t.Context()
	id, ip := randomID(), nthAddr(m, 2)
	p1, err := m.Setup(ctx, id, ip)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := m.Setup(ctx, id, ip)
	if err != nil || p1 != p2 {
		t.Fatalf("second Setup = %q, %v; want %q, nil", p2, err, p1)
	}
	agent := uint16(serve(t, p1, ":0"))
	mustReach(t, "", netip.AddrPortFrom(ip, agent), "after two Setups")

	// Setup with another address re-addresses the namespace.
	ip2 := nthAddr(m, 3)
	if _, err := m.Setup(ctx, id, ip2); err != nil {
		t.Fatal(err)
	}
	if err := inNetns(p1, func() error { checkInside(t, m, ip2); return nil }); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		if err := m.Teardown(ctx, id); err != nil {
			t.Fatalf("Teardown: %v", err)
		}
	}
	assertGone(t, m, id)
	if _, err := m.Setup(ctx, id, ip); err != nil {
		t.Fatalf("Setup after Teardown: %v", err)
	}
	if err := m.Teardown(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(t, m, id)
	if err := m.Teardown(ctx, randomID()); err != nil {
		t.Errorf("Teardown of an unknown sandbox: %v", err)
	}
}

func assertGone(t *testing.T, m *Manager, id string) {
	t.Helper()
	if l, _ := lookupLink(m.vethName(id)); l != nil {
		t.Errorf("veth %s left", m.vethName(id))
	}
	if _, err := os.Lstat(m.nsPath(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace file %s left (%v)", m.nsPath(id), err)
	}
	if ids, _ := m.List(t.Context()); slices.Contains(ids, id) {
		t.Errorf("List still has %s", id)
	}
}

func TestSetupRollsBack(t *testing.T) {
	m := newTestManager(t)
	injected := errors.New("injected failure")
	for _, step := range []string{"netns", "veth", "attach", "inside"} {
		t.Run(step, func(t *testing.T) {
			setupFault = func(s string) error {
				if s == step {
					return injected
				}
				return nil
			}
			defer func() { setupFault = nil }()
			id := randomID()
			if _, err := m.Setup(t.Context(), id, nthAddr(m, 2)); !errors.Is(err, injected) {
				t.Fatalf("Setup = %v, want the injected failure", err)
			}
			assertGone(t, m, id)
		})
	}
}

func TestSetupRepairsLeftovers(t *testing.T) {
	m := newTestManager(t)
	ctx := t.Context()

	// A crash between creating the namespace file and mounting it.
	id := randomID()
	if err := os.WriteFile(m.nsPath(id), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if ids, _ := m.List(ctx); !slices.Contains(ids, id) {
		t.Errorf("List misses the half-made namespace %s", id)
	}
	ip := nthAddr(m, 2)
	nsPath, err := m.Setup(ctx, id, ip)
	if err != nil {
		t.Fatalf("Setup over a stale file: %v", err)
	}
	agent := uint16(serve(t, nsPath, ":0"))
	mustReach(t, "", netip.AddrPortFrom(ip, agent), "after repair")

	// A crash after creating the namespace, before the veth.
	id2 := randomID()
	ns, err := newNamedNetns(m.nsName(id2))
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	if _, err := m.Setup(ctx, id2, nthAddr(m, 3)); err != nil {
		t.Fatalf("Setup into an empty namespace: %v", err)
	}
}

func TestListFindsOrphans(t *testing.T) {
	m := newTestManager(t)
	a, _, _ := setupSandbox(t, m, 2)
	b, _, _ := setupSandbox(t, m, 3)

	// A restarted daemon: a new Manager on the same bridge.
	again, err := New(m.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values([]string{a, b})); !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}

	// Another bridge's Manager sees none of them.
	other := newTestManager(t)
	otherIDs, err := other.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(otherIDs) != 0 {
		t.Errorf("other bridge's List = %v, want none", otherIDs)
	}
	for _, id := range got {
		if err := again.Teardown(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if ids, _ := m.List(t.Context()); len(ids) != 0 {
		t.Errorf("after orphan cleanup List = %v", ids)
	}
}

func TestInitIdempotent(t *testing.T) {
	m := newTestManager(t)
	ctx := t.Context()
	_, ipA, nsA := setupSandbox(t, m, 2)

	// Someone added an address to our bridge: Init puts things right.
	br, err := netlink.LinkByName(m.cfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	stray := &netlink.Addr{IPNet: &net.IPNet{IP: nthAddr(m, 200).AsSlice(), Mask: net.CIDRMask(32, 32)}}
	if err := netlink.AddrAdd(br, stray); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := m.Init(ctx, nil); err != nil {
			t.Fatalf("Init again: %v", err)
		}
	}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	want := fmt.Sprintf("%s/%d", m.Gateway(), m.cfg.Subnet.Bits())
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != want {
		t.Errorf("bridge addresses = %v, want only %s", addrs, want)
	}
	if got := readFile(t, ipForwardSysctl); got != "1" {
		t.Errorf("ip_forward = %s", got)
	}
	out, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"table inet " + filterTable(m.cfg.Bridge), "table ip " + natTable(m.cfg.Bridge)} {
		if n := strings.Count(string(out)+"\n", table+"\n"); n != 1 {
			t.Errorf("%q listed %d times:\n%s", table, n, out)
		}
	}
	// Existing sandboxes keep working across Init.
	agent := uint16(serve(t, nsA, ":0"))
	mustReach(t, "", netip.AddrPortFrom(ipA, agent), "after Init again")
}

func TestRestore(t *testing.T) {
	m := newTestManager(t)
	ctx := t.Context()
	id, ip, nsPath := setupSandbox(t, m, 2)
	agent := netip.AddrPortFrom(ip, uint16(serve(t, nsPath, "0.0.0.0:0")))
	mustReach(t, "", agent, "before")

	// What gVisor does when it starts: take the address (and with it the
	// routes) off the interface.
	if err := inNetns(nsPath, func() error {
		eth, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(eth, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if err := netlink.AddrDel(eth, &a); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mustNotReach(t, "", agent, "address removed")

	for range 2 {
		if err := m.Restore(ctx, id, ip); err != nil {
			t.Fatalf("Restore: %v", err)
		}
	}
	if err := inNetns(nsPath, func() error { checkInside(t, m, ip); return nil }); err != nil {
		t.Fatal(err)
	}
	mustReach(t, "", agent, "after Restore")

	if err := m.Restore(ctx, randomID(), ip); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Restore of an unknown sandbox = %v, want ErrNotFound", err)
	}
}

func TestSetupWithoutInit(t *testing.T) {
	requireRoot(t)
	m, err := New(Config{Bridge: fmt.Sprintf("rtt%06x", rand.IntN(1<<24)), DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := randomID()
	if _, err := m.Setup(t.Context(), id, nthAddr(m, 2)); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("Setup without Init = %v, want ErrUnavailable", err)
	}
	assertGone(t, m, id)
	if err := m.Close(t.Context()); err != nil {
		t.Errorf("Close without Init: %v", err)
	}
}

func TestNoThreadLeftInSandboxNamespace(t *testing.T) {
	m := newTestManager(t)
	host, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	for i := range 20 {
		setupSandbox(t, m, 2+i)
	}
	// Every thread of the process must still be in the host namespace.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var want unix.Stat_t
	if err := unix.Fstat(int(host), &want); err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/task/"+task.Name()+"/ns/net", &st); err != nil {
			continue // thread exited
		}
		if st.Ino != want.Ino {
			t.Errorf("thread %s is in another network namespace", task.Name())
		}
	}
}

func TestSetupLatency(t *testing.T) {
	m := newTestManager(t)
	ctx := t.Context()
	const runs = 20
	var setups, teardowns []time.Duration
	ctxBg := context.Background()
	for i := range runs {
		id := randomID()
		start := time.Now()
		if _, err := m.Setup(ctx, id, nthAddr(m, 2+i)); err != nil {
			t.Fatal(err)
		}
		setups = append(setups, time.Since(start))
		defer func() {
			start := time.Now()
			if err := m.Teardown(ctxBg, id); err != nil {
				t.Error(err)
			}
			teardowns = append(teardowns, time.Since(start))
		}()
	}
	t.Cleanup(func() {
		slices.Sort(teardowns)
		if len(teardowns) > 0 {
			t.Logf("Teardown over %d runs: p50 %v, max %v", len(teardowns), teardowns[len(teardowns)/2], teardowns[len(teardowns)-1])
		}
	})
	slices.Sort(setups)
	p50 := setups[runs/2]
	// Measured, not asserted (make bench has the create figures).
	t.Logf("Setup over %d runs: min %v, p50 %v, p90 %v, max %v", runs, setups[0], p50, setups[runs*9/10], setups[runs-1])
}

func TestConcurrentSetup(t *testing.T) {
	m := newTestManager(t)
	const n = 12
	type sb struct {
		id, ns string
		ip     netip.Addr
	}
	sbs := make([]sb, n)
	errs := make(chan error, n)
	for i := range n {
		sbs[i] = sb{id: randomID(), ip: nthAddr(m, 2+i)}
		go func() {
			p, err := m.Setup(t.Context(), sbs[i].id, sbs[i].ip)
			sbs[i].ns = p
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Setup: %v", err)
		}
	}
	for _, s := range sbs {
		port := uint16(serve(t, s.ns, ":0"))
		mustReach(t, "", netip.AddrPortFrom(s.ip, port), "after concurrent Setup")
	}
	for _, s := range sbs {
		go func() { errs <- m.Teardown(t.Context(), s.id) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Teardown: %v", err)
		}
	}
	for _, s := range sbs {
		assertGone(t, m, s.id)
	}
}

func TestInitRejectsOverlappingSubnet(t *testing.T) {
	requireRoot(t)
	subnet := freeSubnet(t, 24)
	other := fmt.Sprintf("rtt%06xd", rand.IntN(1<<24))
	attrs := netlink.NewLinkAttrs()
	attrs.Name = other
	dummy := &netlink.Bridge{LinkAttrs: attrs} // a bridge, as Podman's; dummy may be missing
	if err := netlink.LinkAdd(dummy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteLink(other) })
	// Another network that contains ours, as Podman's 10.88.0.0/16 would.
	wider := netip.PrefixFrom(subnet.Addr(), 16).Masked()
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: wider.Addr().Next().Next().AsSlice(), Mask: net.CIDRMask(16, 32)}}
	if err := netlink.AddrAdd(dummy, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(dummy); err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Bridge: fmt.Sprintf("rtt%06x", rand.IntN(1<<24)), Subnet: subnet, DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(t.Context(), nil); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("Init over %s on %s = %v, want ErrConflict", wider, other, err)
	}
	if l, _ := lookupLink(m.cfg.Bridge); l != nil {
		t.Errorf("bridge %s left after a failed Init", m.cfg.Bridge)
		m.Close(context.Background())
	}
}

// TestBridgeMTUAfterRestart: the kernel makes a bridge's MTU 1500 once its
// last port goes, unless it was set; a restart puts the uplink's back, so
// that sandboxes made after it do not send frames the uplink drops.
func TestBridgeMTUAfterRestart(t *testing.T) {
	m := newTestManager(t)
	id, _, _ := setupSandbox(t, m, 9)
	if err := m.Teardown(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	br, err := netlink.LinkByName(m.cfg.Bridge)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bridge MTU with no port left: %d (uplink %d)", br.Attrs().MTU, uplinkMTU())
	if err := netlink.LinkSetMTU(br, 1500); err != nil { // as an older daemon left it
		t.Fatal(err)
	}
	if err := m.Init(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if br, _ = netlink.LinkByName(m.cfg.Bridge); br.Attrs().MTU != uplinkMTU() {
		t.Errorf("bridge MTU after a restart: %d, want the uplink's %d", br.Attrs().MTU, uplinkMTU())
	}
	// A sandbox made while the bridge has no port gets the uplink's too.
	if err := netlink.LinkSetMTU(br, 1500); err != nil {
		t.Fatal(err)
	}
	_, _, nsPath := setupSandbox(t, m, 10)
	if err := inNetns(nsPath, func() error {
		eth, err := netlink.LinkByName("eth0")
		if err == nil && eth.Attrs().MTU != uplinkMTU() {
			t.Errorf("eth0 MTU of a sandbox made on an empty bridge: %d, want the uplink's %d", eth.Attrs().MTU, uplinkMTU())
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
