package network

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
)

var testDNS = []netip.Addr{netip.MustParseAddr("10.255.255.53")}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"defaults", Config{DNS: testDNS}, nil},
		{"explicit", Config{Bridge: "rtdev_1", Subnet: netip.MustParsePrefix("10.200.3.0/24"), DNS: testDNS}, nil},
		{"smallest subnet", Config{Subnet: netip.MustParsePrefix("10.200.3.0/30"), DNS: testDNS}, nil},
		{"bridge too long", Config{Bridge: "abcdefghijklmnop", DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"bridge with dash", Config{Bridge: "rt-0", DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"bridge with slash", Config{Bridge: "rt/0", DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"bridge starting with digit", Config{Bridge: "0rt", DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"ipv6 subnet", Config{Subnet: netip.MustParsePrefix("fd00::/64"), DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"subnet /31", Config{Subnet: netip.MustParsePrefix("10.0.0.0/31"), DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"subnet /7", Config{Subnet: netip.MustParsePrefix("10.0.0.0/7"), DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"host bits", Config{Subnet: netip.MustParsePrefix("10.88.0.1/16"), DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"link-local subnet", Config{Subnet: netip.MustParsePrefix("169.254.0.0/16"), DNS: testDNS}, errdefs.ErrInvalidArgument},
		{"loopback dns", Config{DNS: []netip.Addr{netip.MustParseAddr("127.0.0.53")}}, errdefs.ErrInvalidArgument},
		{"ipv6 dns", Config{DNS: []netip.Addr{netip.MustParseAddr("2001:db8::1")}}, errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New(%+v) error = %v, want %v", tt.cfg, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if m.cfg.Bridge == "" || !m.cfg.Subnet.IsValid() || len(m.DNS()) == 0 {
				t.Errorf("defaults not filled: %+v", m.cfg)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	m, err := New(Config{DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.cfg.Bridge != "rt0" || m.Subnet() != netip.MustParsePrefix("10.123.0.0/16") {
		t.Errorf("defaults = %s %s", m.cfg.Bridge, m.Subnet())
	}
	if got := m.Gateway(); got != netip.MustParseAddr("10.123.0.1") {
		t.Errorf("Gateway() = %s, want 10.123.0.1", got)
	}
	dns := m.DNS()
	dns[0] = netip.Addr{}
	if !m.DNS()[0].IsValid() {
		t.Error("DNS() returns the Manager's own slice")
	}
}

func TestHostNameservers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain", "# comment\nsearch example\nnameserver 10.255.255.53\nnameserver 127.0.0.1\nnameserver 2001:db8::1\nnameserver 192.0.2.53\n")
	stub := write("stub", "nameserver 127.0.0.53\noptions edns0 trust-ad\n")
	upstream := write("upstream", "nameserver 192.0.2.10\nnameserver 192.0.2.11\n")
	v6only := write("v6only", "nameserver 2001:db8::53\n")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name              string
		primary, fallback string
		want              string
		wantErr           error
	}{
		{"plain", plain, missing, "[10.255.255.53 192.0.2.53]", nil},
		{"systemd-resolved stub", stub, upstream, "[192.0.2.10 192.0.2.11]", nil},
		{"stub without upstream", stub, missing, "", errdefs.ErrUnavailable},
		{"ipv6 only", v6only, missing, "", errdefs.ErrUnavailable},
		{"no files", missing, missing, "", errdefs.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hostNameservers(tt.primary, tt.fallback)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if s := fmtAddrs(got); s != tt.want {
					t.Errorf("got %v, want %s", got, tt.want)
				}
			}
		})
	}
}

func fmtAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{
		"sandbox-abcdefgh":                          true,
		"sandbox-0123456789abcdef0123456789abcdef":  true,
		"sandbox-abc12345":                          true,
		"sandbox-abcdefg":                           false, // 7
		"sandbox-0123456789abcdef0123456789abcdef0": false, // 33
		"sandbox-ABCDEFGH":                          false,
		"sandbox-abcd-efgh":                         false,
		"sandbox-abcdefgh\n":                        false,
		"sandbox-../../etc":                         false,
		"abcdefghijkl":                              false,
		"":                                          false,
		" sandbox-abcdefgh":                         false,
	} {
		err := checkID(id)
		if ok && err != nil {
			t.Errorf("checkID(%q) = %v, want nil", id, err)
		}
		if !ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("checkID(%q) = %v, want ErrInvalidArgument", id, err)
		}
	}
}

func TestNames(t *testing.T) {
	long, err := New(Config{Bridge: "abcdefghijklmno", DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, err := New(Config{Bridge: "rt0", DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Config{Bridge: "abcdefghijklmnX", DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := "sandbox-abcdefgh"
	for _, m := range []*Manager{long, short, other} {
		v := m.vethName(id)
		if len(v) > 15 {
			t.Errorf("vethName = %q, longer than 15", v)
		}
		if v != m.vethName(id) {
			t.Error("vethName not deterministic")
		}
		if v == m.vethName("sandbox-abcdefgi") {
			t.Error("vethName equal for different ids")
		}
		if got, ok := m.idFromNSName(m.nsName(id)); !ok || got != id {
			t.Errorf("idFromNSName(nsName(%q)) = %q, %v", id, got, ok)
		}
		if m.nsPath(id) != "/run/netns/"+m.cfg.Bridge+"-"+id {
			t.Errorf("nsPath = %q", m.nsPath(id))
		}
	}
	if long.vethName(id) == other.vethName(id) {
		t.Error("same veth name for the same id on two bridges sharing a prefix")
	}
	if _, ok := short.idFromNSName(long.nsName(id)); ok {
		t.Error("a Manager claims another bridge's namespace")
	}
	for _, name := range []string{"rt0-sandbox-abc", "rt0-foo", "rt0", "rt0-sandbox-abcdefgh-peer", "rt1-sandbox-abcdefgh"} {
		if _, ok := short.idFromNSName(name); ok {
			t.Errorf("idFromNSName(%q) accepted", name)
		}
	}
}

func TestBroadcast(t *testing.T) {
	for p, want := range map[string]string{
		"10.88.0.0/16":   "10.88.255.255",
		"10.200.3.0/24":  "10.200.3.255",
		"10.200.3.4/30":  "10.200.3.7",
		"10.0.0.0/8":     "10.255.255.255",
		"172.16.0.0/12":  "172.31.255.255",
		"10.200.3.64/26": "10.200.3.127",
	} {
		if got := broadcast(netip.MustParsePrefix(p)); got.String() != want {
			t.Errorf("broadcast(%s) = %s, want %s", p, got, want)
		}
	}
}

func TestAllocate(t *testing.T) {
	addrs := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	var fullSlash24 []netip.Addr
	for a := netip.MustParseAddr("10.200.3.2"); a != netip.MustParseAddr("10.200.3.255"); a = a.Next() {
		fullSlash24 = append(fullSlash24, a)
	}
	var fillFirstOctet []netip.Addr
	for a := netip.MustParseAddr("10.88.0.2"); a != netip.MustParseAddr("10.88.1.0"); a = a.Next() {
		fillFirstOctet = append(fillFirstOctet, a)
	}
	tests := []struct {
		name    string
		subnet  string
		used    []netip.Addr
		want    string
		wantErr error
	}{
		{"empty", "10.88.0.0/16", nil, "10.88.0.2", nil},
		{"lowest gap", "10.88.0.0/16", addrs("10.88.0.2", "10.88.0.4"), "10.88.0.3", nil},
		{"after used", "10.88.0.0/16", addrs("10.88.0.3", "10.88.0.2"), "10.88.0.4", nil},
		{"ignores outside and specials", "10.88.0.0/16", addrs("192.0.2.2", "10.88.0.0", "10.88.0.1", "10.88.255.255"), "10.88.0.2", nil},
		{"ipv4-mapped used", "10.88.0.0/16", addrs("::ffff:10.88.0.2"), "10.88.0.3", nil},
		{"crosses octet", "10.88.0.0/16", fillFirstOctet, "10.88.1.0", nil},
		{"slash 30", "10.200.3.0/30", nil, "10.200.3.2", nil},
		{"slash 30 full", "10.200.3.0/30", addrs("10.200.3.2"), "", errdefs.ErrResourceExhausted},
		{"slash 24 full", "10.200.3.0/24", fullSlash24, "", errdefs.ErrResourceExhausted},
		{"slash 24 last", "10.200.3.0/24", fullSlash24[:len(fullSlash24)-1], "10.200.3.254", nil},
		{"unaligned subnet", "10.200.3.64/26", nil, "10.200.3.66", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(Config{Subnet: netip.MustParsePrefix(tt.subnet), DNS: testDNS}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Allocate(tt.used)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Allocate error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Errorf("Allocate = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSetupRejectsBadArguments(t *testing.T) {
	m, err := New(Config{Subnet: netip.MustParsePrefix("10.200.3.0/24"), DNS: testDNS}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	good := netip.MustParseAddr("10.200.3.2")
	for _, tc := range []struct {
		id string
		ip netip.Addr
	}{
		{"sandbox-BAD", good},
		{"../../etc/x", good},
		{"sandbox-abcdefgh", netip.MustParseAddr("10.200.3.0")},
		{"sandbox-abcdefgh", netip.MustParseAddr("10.200.3.1")},
		{"sandbox-abcdefgh", netip.MustParseAddr("10.200.3.255")},
		{"sandbox-abcdefgh", netip.MustParseAddr("10.200.4.2")},
		{"sandbox-abcdefgh", netip.Addr{}},
	} {
		if _, err := m.Setup(ctx, tc.id, tc.ip); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Setup(%q, %s) = %v, want ErrInvalidArgument", tc.id, tc.ip, err)
		}
		if err := m.Restore(ctx, tc.id, tc.ip); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Restore(%q, %s) = %v, want ErrInvalidArgument", tc.id, tc.ip, err)
		}
	}
	if err := m.Teardown(ctx, "sandbox-../x"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Teardown(bad id) = %v, want ErrInvalidArgument", err)
	}
}

func TestMACFollowsAddress(t *testing.T) {
	a := macFor(netip.MustParseAddr("10.123.4.5")).String()
	if a != "02:72:0a:7b:04:05" {
		t.Errorf("macFor = %s", a)
	}
	if macFor(netip.MustParseAddr("10.123.4.6")).String() == a {
		t.Error("two addresses share a MAC")
	}
}

// TestNetnsDirSurvivesIproute2: a namespace runtools mounted is removed
// whole after iproute2's first `ip netns add` on the host, which binds
// /run/netns on itself unless it is a mount point already.
func TestNetnsDirSurvivesIproute2(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 not installed")
	}
	ok, err := ensureNetnsMount()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skipf("%s holds namespaces mounted before it was a mount point", netnsDir)
	}
	name := "rtnt-" + randomID()
	ns, err := newNamedNetns(name)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	other := "rtnt-ip-" + randomID()
	if out, err := exec.Command("ip", "netns", "add", other).CombinedOutput(); err != nil {
		deleteNamedNetns(name)
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", other).Run()
	if err := deleteNamedNetns(name); err != nil {
		t.Fatalf("after ip netns add: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(netnsDir, name)); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", name, err)
	}
}
