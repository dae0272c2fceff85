// Package network gives every sandbox its own network namespace, wired by a
// veth pair to a host bridge, with NAT egress and an nftables firewall that
// lets the sandboxes of one team reach each other and no one else's, keeps
// them from the host's own services and from link-local (cloud metadata)
// addresses, and enforces each sandbox's egress policy.
package network

import (
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"slices"
	"sync"

	"github.com/runtools/runtools/internal/errdefs"
)

// Defaults for the zero Config.
const (
	DefaultBridge = "rt0"
)

// DefaultSubnet is the sandbox subnet used when Config.Subnet is unset.
var DefaultSubnet = netip.MustParsePrefix("10.123.0.0/16") // not 10.88/16: podman's default network

// Config describes the host side of sandbox networking.
type Config struct {
	// Bridge is the host bridge's name. It also names the firewall tables,
	// the namespaces and the veths, so two Managers with different bridges
	// never see each other's objects. Default "rt0"; at most 15 characters,
	// a letter then letters, digits or '_'.
	Bridge string
	// Subnet is the IPv4 network the sandboxes live in; its first host
	// address is the gateway and sits on the bridge. Default 10.123.0.0/16.
	Subnet netip.Prefix
	// DNS lists the nameservers handed to sandboxes. Default: the host's,
	// from /etc/resolv.conf, or from /run/systemd/resolve/resolv.conf when
	// the former only names a loopback stub resolver.
	DNS []netip.Addr
	// AgentPort, if set, is the TCP port of the agent inside every
	// sandbox: only the host reaches it, never another sandbox, even of
	// the same team.
	AgentPort uint16
}

// Manager sets up and tears down sandbox networking on one bridge. It is
// safe for concurrent use.
type Manager struct {
	cfg     Config
	gateway netip.Addr
	log     *slog.Logger
	mtu     int // every veth's: the uplink's, read at Init

	mu      sync.Mutex
	members map[string]Member     // by sandbox id: what the firewall holds
	byIP    map[netip.Addr]string // sandbox id by address, for the resolver
	tags    map[string]uint32     // team → firewall mark
	nextTag uint32
}

// New validates cfg and fills in defaults. It changes nothing on the host.
func New(cfg Config, log *slog.Logger) (*Manager, error) {
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if !bridgeName.MatchString(cfg.Bridge) {
		return nil, fmt.Errorf("bridge name %q: want a letter then up to 14 letters, digits or '_': %w", cfg.Bridge, errdefs.ErrInvalidArgument)
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = DefaultSubnet
	}
	if err := checkSubnet(cfg.Subnet); err != nil {
		return nil, err
	}
	if len(cfg.DNS) == 0 {
		dns, err := hostNameservers(resolvConf, systemdResolvConf)
		if err != nil {
			return nil, fmt.Errorf("finding the host's nameservers: %w", err)
		}
		cfg.DNS = dns
	} else {
		cfg.DNS = slices.Clone(cfg.DNS)
		for i, a := range cfg.DNS {
			if !usableNameserver(a) {
				return nil, fmt.Errorf("nameserver %s: sandboxes only reach IPv4 unicast addresses that are not loopback: %w", a, errdefs.ErrInvalidArgument)
			}
			cfg.DNS[i] = a.Unmap()
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		cfg:     cfg,
		gateway: cfg.Subnet.Addr().Next(),
		log:     log.With("component", "network", "bridge", cfg.Bridge),
		members: map[string]Member{},
		byIP:    map[netip.Addr]string{},
		tags:    map[string]uint32{},
	}, nil
}

// Gateway is the bridge's address: the sandboxes' default route.
func (m *Manager) Gateway() netip.Addr { return m.gateway }

// DNS is the nameservers sandboxes should use.
func (m *Manager) DNS() []netip.Addr { return slices.Clone(m.cfg.DNS) }

// Subnet is the network sandboxes get addresses from.
func (m *Manager) Subnet() netip.Prefix { return m.cfg.Subnet }

var bridgeName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,14}$`)

func checkSubnet(p netip.Prefix) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("subnet %s: must be IPv4: %w", p, errdefs.ErrInvalidArgument)
	}
	if p.Bits() < 8 || p.Bits() > 30 {
		return fmt.Errorf("subnet %s: prefix length must be between /8 and /30: %w", p, errdefs.ErrInvalidArgument)
	}
	if p.Masked() != p {
		return fmt.Errorf("subnet %s: has host bits set (did you mean %s?): %w", p, p.Masked(), errdefs.ErrInvalidArgument)
	}
	if p.Addr().IsLoopback() || p.Addr().IsLinkLocalUnicast() || p.Addr().IsMulticast() {
		return fmt.Errorf("subnet %s: loopback, link-local and multicast are not usable: %w", p, errdefs.ErrInvalidArgument)
	}
	return nil
}
