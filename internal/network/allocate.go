package network

import (
	"fmt"
	"net/netip"

	"github.com/runtools/runtools/internal/errdefs"
)

// Allocate returns the lowest host address of the subnet that is not the
// network address, the gateway, the broadcast address or in used. Addresses
// in used that lie outside the subnet are ignored. It changes nothing: the
// caller records the address it hands out.
func (m *Manager) Allocate(used []netip.Addr) (netip.Addr, error) {
	taken := make(map[netip.Addr]struct{}, len(used))
	for _, a := range used {
		taken[a.Unmap()] = struct{}{}
	}
	for a := m.gateway.Next(); m.isHost(a); a = a.Next() {
		if _, ok := taken[a]; !ok {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("allocating an address: every host address of %s is in use: %w",
		m.cfg.Subnet, errdefs.ErrResourceExhausted)
}

// isHost reports whether a can be given to a sandbox: inside the subnet and
// not its network, gateway or broadcast address.
func (m *Manager) isHost(a netip.Addr) bool {
	return a.IsValid() && m.cfg.Subnet.Contains(a) &&
		a != m.cfg.Subnet.Addr() && a != m.gateway && a != broadcast(m.cfg.Subnet)
}

// broadcast returns the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	hostBits := 32 - p.Bits()
	for i := 3; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		b[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	return netip.AddrFrom4(b)
}
