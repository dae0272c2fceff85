package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

const (
	resolvConf        = "/etc/resolv.conf"
	systemdResolvConf = "/run/systemd/resolve/resolv.conf"
)

// hostNameservers returns the usable nameservers of primary, or of fallback
// when primary lists only loopback ones (the systemd-resolved stub at
// 127.0.0.53, which a sandbox cannot reach).
func hostNameservers(primary, fallback string) ([]netip.Addr, error) {
	var tried []string
	for _, path := range []string{primary, fallback} {
		data, err := os.ReadFile(path)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		all := parseNameservers(data)
		var usable []netip.Addr
		for _, a := range all {
			if usableNameserver(a) {
				usable = append(usable, a)
			}
		}
		if len(usable) > 0 {
			return usable, nil
		}
		tried = append(tried, fmt.Sprintf("%s: no usable nameserver in %v", path, all))
	}
	return nil, fmt.Errorf("no nameserver a sandbox can reach (%s): %w", strings.Join(tried, "; "), errdefs.ErrUnavailable)
}

// parseNameservers returns the addresses of the "nameserver" lines of a
// resolv.conf, in order, skipping any it cannot parse.
func parseNameservers(data []byte) []netip.Addr {
	var out []netip.Addr
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		out = append(out, a.Unmap())
	}
	return out
}

// usableNameserver reports whether a sandbox can reach a: sandboxes have
// IPv4 only, and the host's loopback is not theirs.
func usableNameserver(a netip.Addr) bool {
	a = a.Unmap()
	return a.Is4() && !a.IsLoopback() && !a.IsUnspecified() && !a.IsMulticast()
}
