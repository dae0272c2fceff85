package network

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// dialTimeout bounds every connection attempt; a dropped SYN fails after it.
const dialTimeout = 300 * time.Millisecond

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
}

// newTestManager returns an initialized Manager on a bridge and /24 of its
// own, with the host's nameservers, and removes everything it made when
// the test ends, failing the test if anything is left.
func newTestManager(t *testing.T, dns ...netip.Addr) *Manager {
	t.Helper()
	requireRoot(t)
	cfg := Config{
		Bridge: fmt.Sprintf("rtt%06x", rand.IntN(1<<24)),
		Subnet: freeSubnet(t, 24),
		DNS:    dns,
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	if err := m.Init(t.Context(), nil); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return m
}

func cleanupManager(t *testing.T, m *Manager) {
	ctx := context.Background() // t.Context is already canceled in cleanups
	ids, err := m.List(ctx)
	if err != nil {
		t.Errorf("cleanup: List: %v", err)
	}
	for _, id := range ids {
		if err := m.Teardown(ctx, id); err != nil {
			t.Errorf("cleanup: Teardown(%s): %v", id, err)
		}
	}
	if err := m.Close(ctx); err != nil {
		t.Errorf("cleanup: Close: %v", err)
	}
	if l, _ := lookupLink(m.cfg.Bridge); l != nil {
		t.Errorf("bridge %s left after Close", m.cfg.Bridge)
	}
	if out, err := exec.Command("nft", "list", "tables").CombinedOutput(); err != nil || strings.Contains(string(out), filterTable(m.cfg.Bridge)) {
		t.Errorf("firewall tables left after Close (err %v):\n%s", err, out)
	}
	if ids, _ := m.List(ctx); len(ids) > 0 {
		t.Errorf("namespaces left after cleanup: %v", ids)
	}
}

// freeSubnet picks a random 10.2xx.y.0/bits that overlaps no address or
// route on the host.
func freeSubnet(t *testing.T, bits int) netip.Prefix {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		// 10.150-199: the integration tests' servers use 10.200-249 and the
		// benchmark's 10.250, and their packages run alongside this one.
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(150 + rand.IntN(50)), byte(rand.IntN(256)), 0}), bits).Masked()
		free := true
		for _, r := range routes {
			if r.Dst == nil {
				continue
			}
			d, ok := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			if ok && ones > 0 && p.Overlaps(netip.PrefixFrom(d.Unmap(), ones)) {
				free = false
			}
		}
		if free {
			return p
		}
	}
	t.Fatal("no free test subnet")
	return netip.Prefix{}
}

func randomID() string {
	return fmt.Sprintf("sandbox-%012x", rand.Uint64()&(1<<48-1))
}

// nthAddr returns the subnet's address n (2 is the first sandbox address).
func nthAddr(m *Manager, n int) netip.Addr {
	a := m.cfg.Subnet.Addr()
	for range n {
		a = a.Next()
	}
	return a
}

// setupSandbox sets up a sandbox at the subnet's n-th address.
func setupSandbox(t *testing.T, m *Manager, n int) (id string, ip netip.Addr, nsPath string) {
	t.Helper()
	id, ip = randomID(), nthAddr(m, n)
	nsPath, err := m.Setup(t.Context(), id, ip)
	if err != nil {
		t.Fatalf("Setup(%s, %s): %v", id, ip, err)
	}
	return id, ip, nsPath
}

// inNetns runs fn on a thread in the namespace at path ("" for the host's).
// Sockets keep the namespace they were created in, so fn may return a
// listener or connection for use from any goroutine.
func inNetns(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("switching back: %w", err)
			return // the thread dies locked
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// serve starts a TCP server in the namespace at nsPath ("" for the host)
// that greets every connection with "hi\n", and returns its port.
func serve(t *testing.T, nsPath, addr string) int {
	t.Helper()
	var ln net.Listener
	if err := inNetns(nsPath, func() (err error) {
		ln, err = net.Listen("tcp4", addr)
		return err
	}); err != nil {
		t.Fatalf("listening on %s in %q: %v", addr, nsPath, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi\n"))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// dial connects from the namespace at nsPath ("" for the host) to addr and
// expects the greeting of serve.
func dial(nsPath string, addr netip.AddrPort) error {
	return dialWithin(nsPath, addr, dialTimeout)
}

func dialWithin(nsPath string, addr netip.AddrPort, timeout time.Duration) error {
	var c net.Conn
	if err := inNetns(nsPath, func() (err error) {
		c, err = net.DialTimeout("tcp4", addr.String(), timeout)
		return err
	}); err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading greeting: %w", err)
	}
	if line != "hi\n" {
		return fmt.Errorf("greeting = %q", line)
	}
	return nil
}

func mustReach(t *testing.T, from string, to netip.AddrPort, why string) {
	t.Helper()
	if err := dial(from, to); err != nil {
		t.Errorf("%s: %s cannot reach %s: %v", why, nsLabel(from), to, err)
	}
}

func mustNotReach(t *testing.T, from string, to netip.AddrPort, why string) {
	t.Helper()
	if err := dial(from, to); err == nil {
		t.Errorf("%s: %s reached %s", why, nsLabel(from), to)
	}
}

func nsLabel(path string) string {
	if path == "" {
		return "host"
	}
	return filepath.Base(path)
}

// newPeer makes a namespace standing for some other machine: a veth from
// the host with hostSide on the host end, peer inside, and a default route
// back through the host. It is not a sandbox: the bridge is not involved.
func newPeer(t *testing.T, m *Manager, suffix string, hostSide netip.Prefix, peer netip.Addr) string {
	t.Helper()
	name := m.cfg.Bridge + "-peer" + suffix
	vethName := m.cfg.Bridge + "p" + suffix
	ns, err := newNamedNetns(name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	t.Cleanup(func() {
		if err := deleteLink(vethName); err != nil {
			t.Error(err)
		}
		if err := deleteNamedNetns(name); err != nil {
			t.Error(err)
		}
	})
	host, err := createVeth(vethName, 1500, ns)
	if err != nil {
		t.Fatal(err)
	}
	ipnet := func(a netip.Addr) *netlink.Addr {
		return &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(hostSide.Bits(), 32)}}
	}
	if err := netlink.AddrAdd(host, ipnet(hostSide.Addr())); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(host); err != nil {
		t.Fatal(err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := h.LinkByName("lo")
	for _, err := range []error{
		h.LinkSetUp(lo),
		h.AddrAdd(eth, ipnet(peer)),
		h.LinkSetUp(eth),
		h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: hostSide.Addr().AsSlice()}),
	} {
		if err != nil {
			t.Fatalf("configuring peer namespace: %v", err)
		}
	}
	// As in Setup, the end that came up first only passes packets once the
	// kernel's link watcher has caught up; wait for both ends.
	for _, end := range []struct {
		h    *netlink.Handle
		name string
	}{{&netlink.Handle{}, vethName}, {h, "eth0"}} {
		deadline := time.Now().Add(time.Second)
		for {
			l, err := end.h.LinkByName(end.name)
			if err == nil && l.Attrs().OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("peer link %s not up", end.name)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	time.Sleep(2 * time.Millisecond) // the queue is activated just after the state changes
	return filepath.Join(netnsDir, name)
}

// hostPrimaryIP returns the first IPv4 address of the interface of the
// host's default route.
func hostPrimaryIP(t *testing.T) netip.Addr {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if (r.Dst != nil && r.Dst.String() != "0.0.0.0/0") || r.LinkIndex == 0 {
			continue
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			continue
		}
		addrs, _ := netlink.AddrList(link, netlink.FAMILY_V4)
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				return ip.Unmap()
			}
		}
	}
	t.Skip("host has no default route with an IPv4 address")
	return netip.Addr{}
}

// aptHost returns the host name of the first URI in the host's apt
// sources: a name the host is known to resolve.
func aptHost() (string, error) {
	var lines []string
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	files = append(files, "/etc/apt/sources.list")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines = append(lines, strings.Split(string(data), "\n")...)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		var candidates []string
		switch {
		case len(f) >= 2 && f[0] == "URIs:":
			candidates = f[1:]
		case len(f) >= 2 && (f[0] == "deb" || f[0] == "deb-src"):
			candidates = f[1:]
		}
		for _, c := range candidates {
			if u, err := url.Parse(c); err == nil && u.Hostname() != "" && u.Scheme != "" {
				return u.Hostname(), nil
			}
		}
	}
	return "", errors.New("no URI in apt sources")
}

// dnsQuery builds a recursive query for the A records of name.
func dnsQuery(id uint16, name string) []byte {
	b := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0, 0, 1, 0, 1) // root, type A, class IN
}

// resolveA sends an A query for name over UDP to server:53 from the
// namespace at nsPath and returns the answer count of a successful reply.
func resolveA(nsPath string, server netip.Addr, name string) (int, error) {
	var c net.Conn
	if err := inNetns(nsPath, func() (err error) {
		c, err = net.Dial("udp4", netip.AddrPortFrom(server, 53).String())
		return err
	}); err != nil {
		return 0, err
	}
	defer c.Close()
	id := uint16(rand.IntN(1 << 16))
	buf := make([]byte, 1500)
	var lastErr error
	for range 3 {
		if _, err := c.Write(dnsQuery(id, name)); err != nil {
			return 0, err
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if err != nil {
			lastErr = err
			continue
		}
		r := buf[:n]
		switch {
		case n < 12 || uint16(r[0])<<8|uint16(r[1]) != id || r[2]&0x80 == 0:
			lastErr = fmt.Errorf("not a reply to our query: % x", r)
		case r[3]&0x0f != 0:
			return 0, fmt.Errorf("rcode %d", r[3]&0x0f)
		default:
			return int(r[6])<<8 | int(r[7]), nil
		}
	}
	return 0, lastErr
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// ruleDrops returns the packet counter of the rule of our filter table
// whose comment is comment.
func ruleDrops(t *testing.T, m *Manager, chain, comment string) int {
	t.Helper()
	return ruleDropsIn(t, "inet", filterTable(m.cfg.Bridge), chain, comment)
}

// nftList returns the whole of our firewall, as nft lists it.
func nftList(t *testing.T, m *Manager) string {
	t.Helper()
	var all []string
	for _, tbl := range [][2]string{{"inet", filterTable(m.cfg.Bridge)}, {"bridge", portsTable(m.cfg.Bridge)}} {
		out, err := exec.Command("nft", "list", "table", tbl[0], tbl[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("listing table %s: %v: %s", tbl[1], err, out)
		}
		all = append(all, string(out))
	}
	return strings.Join(all, "\n")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// ruleDropsIn is ruleDrops for any family and table.
func ruleDropsIn(t *testing.T, family, table, chain, comment string) int {
	t.Helper()
	out, err := exec.Command("nft", "-j", "list", "chain", family, table, chain).Output()
	if err != nil {
		t.Fatalf("listing chain %s: %v", chain, err)
	}
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Comment string           `json:"comment"`
				Expr    []map[string]any `json:"expr"`
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, o := range doc.Nftables {
		if o.Rule == nil || o.Rule.Comment != comment {
			continue
		}
		for _, e := range o.Rule.Expr {
			if c, ok := e["counter"].(map[string]any); ok {
				n, _ := c["packets"].(float64)
				return int(n)
			}
		}
	}
	t.Fatalf("no counted rule %q in chain %s", comment, chain)
	return 0
}

// mustBeDroppedBy checks that connecting fails and that the rule with the
// given comment is what dropped it.
func mustBeDroppedBy(t *testing.T, m *Manager, chain, comment, from string, to netip.AddrPort) {
	t.Helper()
	before := ruleDrops(t, m, chain, comment)
	mustNotReach(t, from, to, comment)
	if ruleDrops(t, m, chain, comment) > before {
		return
	}
	// The first packet may not have left yet: address resolution after an
	// earlier failure can take longer than dialTimeout. Try once more,
	// patiently.
	if err := dialWithin(from, to, 2*time.Second); err == nil {
		t.Errorf("%s: %s reached %s", comment, nsLabel(from), to)
	}
	if after := ruleDrops(t, m, chain, comment); after <= before {
		t.Errorf("%s → %s failed, but not by rule %q (counter %d → %d)", nsLabel(from), to, comment, before, after)
	}
}
