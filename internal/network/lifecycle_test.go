package network

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

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
