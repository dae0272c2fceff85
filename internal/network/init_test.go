package network

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/vishvananda/netlink"
)

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
