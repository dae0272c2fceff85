package network

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Member is what the firewall knows of one sandbox: its address, its team
// (sandboxes of one team reach each other; no one else reaches them) and
// its egress policy. The addresses of its domains reach the firewall as the
// resolver looks them up (Resolved).
type Member struct {
	ID   string
	IP   netip.Addr
	Team string
	// DenyAll drops egress that no allow rule matches.
	DenyAll bool
	// Allow and Deny are CIDRs; Deny wins.
	Allow, Deny []netip.Prefix
	// AllowDomains and DenyDomains are the policy's domain rules. With
	// any, DNS to anything but the daemon's resolver is dropped, so that
	// they cannot be sidestepped by asking another nameserver; a change of
	// them drops the addresses resolved under the old ones.
	AllowDomains, DenyDomains []string
}

// equal reports whether m and o put the same things in the firewall.
func (m Member) equal(o Member) bool {
	return m.ID == o.ID && m.IP == o.IP && m.Team == o.Team && m.DenyAll == o.DenyAll &&
		slices.Equal(m.Allow, o.Allow) && slices.Equal(m.Deny, o.Deny) &&
		slices.Equal(m.AllowDomains, o.AllowDomains) && slices.Equal(m.DenyDomains, o.DenyDomains)
}

// forceDNS reports whether m's DNS must go through the resolver.
func (m Member) forceDNS() bool { return len(m.AllowDomains)+len(m.DenyDomains) > 0 }

// restricted reports whether m needs a chain of its own.
func (m Member) restricted() bool {
	return m.DenyAll || len(m.Allow) > 0 || len(m.Deny) > 0 || m.forceDNS()
}

// Apply puts the sandbox into the firewall, or updates it there, in one
// transaction: its team, its anti-spoofing entry and its egress chain.
// Addresses resolved for it earlier are kept only if their policy is
// unchanged.
func (m *Manager) Apply(ctx context.Context, mb Member) error {
	mb.IP = mb.IP.Unmap()
	if err := m.checkSandbox(mb.ID, mb.IP); err != nil {
		return err
	}
	if mb.Team == "" {
		return fmt.Errorf("sandbox %s: no team: %w", mb.ID, errdefs.ErrInvalidArgument)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	if old, ok := m.members[mb.ID]; ok {
		if old.equal(mb) {
			return nil // a paused sandbox resuming: nothing changed
		}
		m.writeRemove(&b, old)
	}
	m.writeAdd(&b, mb)
	if err := nft(ctx, b.String()); err != nil {
		return fmt.Errorf("applying the network policy of sandbox %s: %w", mb.ID, err)
	}
	m.remember(mb)
	return nil
}

// remember records mb as in the firewall, replacing what was there for its
// sandbox. The caller holds mu.
func (m *Manager) remember(mb Member) {
	if old, ok := m.members[mb.ID]; ok {
		delete(m.byIP, old.IP)
	}
	m.members[mb.ID] = mb
	m.byIP[mb.IP] = mb.ID
}

// forget takes the sandbox out of the firewall, if it is in it.
func (m *Manager) forget(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.members[id]
	if !ok {
		return nil
	}
	var b strings.Builder
	m.writeRemove(&b, old)
	if err := nft(ctx, b.String()); err != nil {
		return fmt.Errorf("removing sandbox %s from the firewall: %w", id, err)
	}
	delete(m.members, id)
	delete(m.byIP, old.IP)
	return nil
}

// Resolved lets sandbox id reach addrs (allow) or stops it from reaching
// them (deny) for ttl: the resolver calls it with the answers to lookups
// of names that its domain rules cover, before handing them out.
func (m *Manager) Resolved(ctx context.Context, id string, addrs []netip.Addr, allow bool, ttl time.Duration) error {
	m.mu.Lock()
	mb, ok := m.members[id]
	m.mu.Unlock()
	if !ok || !mb.restricted() || len(addrs) == 0 {
		return nil
	}
	secs := max(int(ttl/time.Second), 1)
	set := m.set(id, "allowd")
	if !allow {
		set = m.set(id, "denyd")
	}
	var elems []string
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			elems = append(elems, fmt.Sprintf("%s timeout %ds", a, secs))
		}
	}
	if len(elems) == 0 {
		return nil
	}
	// "add" keeps an element's old timeout; delete-and-add renews it, so
	// an address just handed out cannot expire a moment later.
	var b strings.Builder
	fmt.Fprintf(&b, "add element inet %s %s { %s }\n", filterTable(m.cfg.Bridge), set, strings.Join(elems, ", "))
	for _, e := range elems {
		fmt.Fprintf(&b, "delete element inet %s %s { %s }\n", filterTable(m.cfg.Bridge), set, strings.SplitN(e, " ", 2)[0])
	}
	fmt.Fprintf(&b, "add element inet %s %s { %s }\n", filterTable(m.cfg.Bridge), set, strings.Join(elems, ", "))
	if err := nft(ctx, b.String()); err != nil {
		return fmt.Errorf("adding resolved addresses for sandbox %s: %w", id, err)
	}
	return nil
}

// Member returns what the firewall knows of the sandbox at ip.
func (m *Manager) Member(ip netip.Addr) (Member, bool) {
	ip = ip.Unmap()
	m.mu.Lock()
	defer m.mu.Unlock()
	mb, ok := m.members[m.byIP[ip]]
	return mb, ok
}

// tag returns the firewall mark standing for a team, handing out the next
// one to a team it has not seen. Tags live as long as the Manager: Init
// rebuilds the firewall from scratch, so they need not survive a restart.
// The caller holds mu.
func (m *Manager) tag(team string) uint32 {
	if t, ok := m.tags[team]; ok {
		return t
	}
	m.nextTag++
	m.tags[team] = m.nextTag
	return m.nextTag
}

// set and chain name the per-sandbox objects of the firewall.
func (m *Manager) set(id, kind string) string { return "eg_" + id + "_" + kind }
func (m *Manager) chain(id string) string     { return "eg_" + id }

// writeAdd writes the nft commands that put mb into the firewall. The
// caller holds mu.
func (m *Manager) writeAdd(b *strings.Builder, mb Member) {
	f, br := filterTable(m.cfg.Bridge), portsTable(m.cfg.Bridge)
	tag := m.tag(mb.Team)
	veth := m.vethName(mb.ID)
	fmt.Fprintf(b, "add element inet %s team { %s : 0x%08x }\n", f, mb.IP, tag)
	fmt.Fprintf(b, "add element inet %s peers { %s . 0x%08x }\n", f, mb.IP, tag)
	fmt.Fprintf(b, "add element bridge %s names { %q }\n", br, veth)
	fmt.Fprintf(b, "add element bridge %s ports { %q . %s }\n", br, veth, mb.IP)
	if !mb.restricted() {
		return
	}
	ch := m.chain(mb.ID)
	for _, s := range []struct {
		kind  string
		flags string
		elems []netip.Prefix
	}{
		{"deny", "interval; auto-merge", mb.Deny},
		{"denyd", "timeout", nil},
		{"allow", "interval; auto-merge", mb.Allow},
		{"allowd", "timeout", nil},
	} {
		fmt.Fprintf(b, "add set inet %s %s { type ipv4_addr; flags %s; ", f, m.set(mb.ID, s.kind), s.flags)
		if len(s.elems) > 0 {
			fmt.Fprintf(b, "elements = { %s }; ", joinPrefixes(s.elems))
		}
		b.WriteString("}\n")
	}
	// Allowed traffic returns to the forward chain, where the fixed denies
	// (link-local, metadata) still apply after it.
	fmt.Fprintf(b, "add chain inet %s %s\n", f, ch)
	fmt.Fprintf(b, "add rule inet %s %s ip daddr @%s counter drop comment \"denied by the sandbox's egress policy\"\n", f, ch, m.set(mb.ID, "deny"))
	fmt.Fprintf(b, "add rule inet %s %s ip daddr @%s counter drop comment \"resolved from a denied domain\"\n", f, ch, m.set(mb.ID, "denyd"))
	if mb.forceDNS() {
		fmt.Fprintf(b, "add rule inet %s %s meta l4proto { tcp, udp } th dport { 53, 853 } counter drop comment \"DNS past the resolver\"\n", f, ch)
	}
	fmt.Fprintf(b, "add rule inet %s %s ip daddr @%s return\n", f, ch, m.set(mb.ID, "allow"))
	fmt.Fprintf(b, "add rule inet %s %s ip daddr @%s return\n", f, ch, m.set(mb.ID, "allowd"))
	if mb.DenyAll {
		fmt.Fprintf(b, "add rule inet %s %s counter drop comment \"egress not allowed\"\n", f, ch)
	}
	fmt.Fprintf(b, "add element inet %s egress { %s : jump %s }\n", f, mb.IP, ch)
}

// writeRemove writes the nft commands that take mb out of the firewall.
// The caller holds mu.
func (m *Manager) writeRemove(b *strings.Builder, mb Member) {
	f, br := filterTable(m.cfg.Bridge), portsTable(m.cfg.Bridge)
	tag := m.tag(mb.Team)
	veth := m.vethName(mb.ID)
	fmt.Fprintf(b, "delete element inet %s team { %s }\n", f, mb.IP)
	fmt.Fprintf(b, "delete element inet %s peers { %s . 0x%08x }\n", f, mb.IP, tag)
	fmt.Fprintf(b, "delete element bridge %s ports { %q . %s }\n", br, veth, mb.IP)
	fmt.Fprintf(b, "delete element bridge %s names { %q }\n", br, veth)
	if !mb.restricted() {
		return
	}
	fmt.Fprintf(b, "delete element inet %s egress { %s }\n", f, mb.IP)
	fmt.Fprintf(b, "delete chain inet %s %s\n", f, m.chain(mb.ID))
	for _, kind := range []string{"deny", "denyd", "allow", "allowd"} {
		fmt.Fprintf(b, "delete set inet %s %s\n", f, m.set(mb.ID, kind))
	}
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Masked().String()
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ", ")
}
