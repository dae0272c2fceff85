package network

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// TestTeamNetwork: sandboxes of one team reach each other, directly on
// their subnet (proxy ARP routes them through the host); another team's
// sandbox reaches neither, and cannot pass itself off as a team member.
func TestTeamNetwork(t *testing.T) {
	m := newTestManager(t)
	idA, ipA, nsA := setupSandbox(t, m, 2)
	idB, ipB, nsB := setupSandbox(t, m, 3)
	idC, ipC, nsC := setupSandbox(t, m, 4)
	for _, mb := range []Member{{ID: idA, IP: ipA, Team: "red"}, {ID: idB, IP: ipB, Team: "red"}, {ID: idC, IP: ipC, Team: "blue"}} {
		if err := m.Apply(t.Context(), mb); err != nil {
			t.Fatal(err)
		}
	}
	atA := netip.AddrPortFrom(ipA, uint16(serve(t, nsA, ":0")))
	atB := netip.AddrPortFrom(ipB, uint16(serve(t, nsB, ":0")))
	atC := netip.AddrPortFrom(ipC, uint16(serve(t, nsC, ":0")))

	mustReach(t, nsA, atB, "same team")
	mustReach(t, nsB, atA, "same team, the other way")
	mustBeDroppedBy(t, m, "forward", "sandbox to sandbox", nsC, atA)
	mustBeDroppedBy(t, m, "forward", "sandbox to sandbox", nsA, atC)

	// C takes a red sandbox's address as a second one of its own: the
	// bridge drops what it sends from it.
	forged := nthAddr(m, 9)
	if err := m.Apply(t.Context(), Member{ID: randomID(), IP: forged, Team: "red"}); err != nil {
		t.Fatal(err)
	}
	if err := inNetns(nsC, func() error {
		eth, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: forged.AsSlice(), Mask: net.CIDRMask(32, 32)}})
	}); err != nil {
		t.Fatal(err)
	}
	before := ruleDropsIn(t, "bridge", portsTable(m.cfg.Bridge), "prerouting", "forged source address") +
		ruleDropsIn(t, "bridge", portsTable(m.cfg.Bridge), "prerouting", "forged ARP sender")
	if err := inNetns(nsC, func() error {
		d := net.Dialer{Timeout: dialTimeout, LocalAddr: &net.TCPAddr{IP: forged.AsSlice()}}
		c, err := d.Dial("tcp4", atA.String())
		if err == nil {
			c.Close()
		}
		return err
	}); err == nil {
		t.Errorf("a blue sandbox reached a red one from a red address")
	}
	after := ruleDropsIn(t, "bridge", portsTable(m.cfg.Bridge), "prerouting", "forged source address") +
		ruleDropsIn(t, "bridge", portsTable(m.cfg.Bridge), "prerouting", "forged ARP sender")
	if after <= before {
		t.Errorf("the forged packets were not dropped by the bridge's rules")
	}

	// Leaving: B's teardown takes it out of the team.
	if err := m.Teardown(t.Context(), idB); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Member(ipB); ok {
		t.Errorf("B still a member after teardown")
	}
}

// TestEgressPolicy: deny-all, allow and deny CIDRs, addresses added by
// the resolver, and the fixed link-local deny that no allow rule lifts.
func TestEgressPolicy(t *testing.T) {
	m := newTestManager(t)
	idA, ipA, nsA := setupSandbox(t, m, 2)
	outside := freeSubnet(t, 30)
	hostSide := netip.PrefixFrom(outside.Addr().Next(), 30)
	peerIP := hostSide.Addr().Next()
	peer := newPeer(t, m, "e", hostSide, peerIP)
	atPeer := netip.AddrPortFrom(peerIP, uint16(serve(t, peer, ":0")))
	apply := func(mb Member) {
		t.Helper()
		mb.ID, mb.IP, mb.Team = idA, ipA, "red"
		if err := m.Apply(t.Context(), mb); err != nil {
			t.Fatal(err)
		}
	}

	apply(Member{})
	mustReach(t, nsA, atPeer, "no policy: allow all")
	apply(Member{DenyAll: true})
	mustBeDroppedBy(t, m, m.chain(idA), "egress not allowed", nsA, atPeer)
	apply(Member{DenyAll: true, Allow: []netip.Prefix{outside}})
	mustReach(t, nsA, atPeer, "deny all but an allowed CIDR")
	apply(Member{Deny: []netip.Prefix{netip.PrefixFrom(peerIP, 32)}})
	mustBeDroppedBy(t, m, m.chain(idA), "denied by the sandbox's egress policy", nsA, atPeer)
	apply(Member{Allow: []netip.Prefix{netip.PrefixFrom(peerIP, 32)}, Deny: []netip.Prefix{outside}, DenyAll: true})
	mustBeDroppedBy(t, m, m.chain(idA), "denied by the sandbox's egress policy", nsA, atPeer)

	// Addresses from the resolver: an allowed domain's, then a denied one's.
	apply(Member{DenyAll: true, AllowDomains: []string{"peer.example"}})
	mustBeDroppedBy(t, m, m.chain(idA), "egress not allowed", nsA, atPeer)
	if err := m.Resolved(t.Context(), idA, []netip.Addr{peerIP}, true, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	mustReach(t, nsA, atPeer, "an address the resolver allowed")
	time.Sleep(3 * time.Second)
	mustNotReach(t, nsA, atPeer, "the resolver's allowance expired")
	apply(Member{DenyDomains: []string{"peer.example"}})
	if err := m.Resolved(t.Context(), idA, []netip.Addr{peerIP}, false, time.Minute); err != nil {
		t.Fatal(err)
	}
	mustBeDroppedBy(t, m, m.chain(idA), "resolved from a denied domain", nsA, atPeer)

	// Link-local stays unreachable when allowed.
	apply(Member{DenyAll: true, Allow: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}})
	before := ruleDrops(t, m, "forward", "link-local and cloud metadata")
	mustNotReach(t, nsA, netip.MustParseAddrPort("169.254.169.254:80"), "metadata, though allowed")
	if after := ruleDrops(t, m, "forward", "link-local and cloud metadata"); after <= before {
		t.Errorf("metadata not dropped by the fixed rule")
	}

	// Teardown removes the sandbox's chain and sets.
	if err := m.Teardown(t.Context(), idA); err != nil {
		t.Fatal(err)
	}
	if out := nftList(t, m); containsAny(out, idA) {
		t.Errorf("firewall still names %s after teardown:\n%s", idA, out)
	}
}
