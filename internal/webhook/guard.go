package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrRefused marks a delivery the Guard refused: it is not retried.
var ErrRefused = errors.New("destination refused")

// metadata are the cloud metadata services outside link-local ranges.
var metadata = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),   // AWS over IPv6
	netip.MustParsePrefix("100.100.100.200/32"),  // Alibaba Cloud
	netip.MustParsePrefix("192.0.0.192/32"),      // Oracle Cloud
	netip.MustParsePrefix("255.255.255.255/32"),  // broadcast
	netip.MustParsePrefix("64:ff9b::a9fe:0/112"), // 169.254.0.0/16 through NAT64
}

// Guard says which addresses deliveries may connect to. Link-local
// (169.254.0.0/16, fe80::/10, where clouds serve their metadata),
// metadata, multicast and unspecified addresses and Deny are always
// refused; loopback and private addresses only without AllowPrivate.
type Guard struct {
	AllowPrivate bool
	Deny         []netip.Prefix // such as the sandboxes' own subnet
}

// Check says why ip is refused, nil if it is not.
func (g Guard) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address (where cloud metadata services answer); webhooks never reach those", ErrRefused, ip)
	case ip.IsMulticast(), ip.IsUnspecified(), ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is not a unicast address", ErrRefused, ip)
	case !g.AllowPrivate && (ip.IsLoopback() || ip.IsPrivate()):
		return fmt.Errorf("%w: %s is a loopback or private address, and this server delivers webhooks only to public ones (--webhook-allow-private=false)", ErrRefused, ip)
	}
	for _, p := range metadata {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is a cloud metadata address; webhooks never reach those", ErrRefused, ip)
		}
	}
	for _, p := range g.Deny {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s, the sandboxes' network; webhooks never reach sandboxes directly (use a sandbox's public URL)", ErrRefused, ip, p)
		}
	}
	return nil
}

// control is a net.Dialer's Control: it checks the address being
// connected to, after name resolution, so a name that resolves to a
// refused address (or changes to one) is refused too.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read the address %q", ErrRefused, address)
	}
	return g.Check(ap.Addr())
}
