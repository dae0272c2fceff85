package network

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
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
