package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

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
