// Package egress describes where a sandbox may open connections outside
// its team's network: everywhere (the default), nowhere, or according to
// lists of allowed and denied CIDRs and domains. It only parses, checks
// and matches; the network package enforces addresses and the resolver
// turns domains into addresses as sandboxes look them up.
package egress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

// Defaults a policy can have for what no rule matches.
const (
	Allow = "allow"
	Deny  = "deny"
)

// MaxRules bounds each of a policy's lists.
const MaxRules = 256

// Policy is a sandbox's egress policy. Deny rules win over allow rules,
// and allow rules over the default. The zero Policy allows everything.
type Policy struct {
	Default string   `json:"default,omitempty"` // Allow ("" too) or Deny
	Allow   []string `json:"allow,omitempty"`   // CIDRs, addresses or domains
	Deny    []string `json:"deny,omitempty"`
}

// Rules is a checked policy split by kind.
type Rules struct {
	DenyAll      bool // the default is deny
	AllowCIDRs   []netip.Prefix
	DenyCIDRs    []netip.Prefix
	AllowDomains []string // lower case, no trailing dot; "*.example.com" matches subdomains
	DenyDomains  []string
}

// IsDefault reports whether p allows everything: no firewall rules needed.
func (p Policy) IsDefault() bool {
	return (p.Default == "" || p.Default == Allow) && len(p.Allow) == 0 && len(p.Deny) == 0
}

// Normalize checks p and returns it in canonical form: default spelled out,
// rules lower case, deduplicated and sorted. Errors wrap
// errdefs.ErrInvalidArgument and name the bad rule.
func (p Policy) Normalize() (Policy, error) {
	out := Policy{Default: p.Default}
	switch p.Default {
	case "", Allow:
		out.Default = Allow
	case Deny:
	default:
		return Policy{}, fmt.Errorf("%w: egress default %q: want %q or %q", errdefs.ErrInvalidArgument, p.Default, Allow, Deny)
	}
	var err error
	if out.Allow, err = normalizeList("allow", p.Allow); err != nil {
		return Policy{}, err
	}
	if out.Deny, err = normalizeList("deny", p.Deny); err != nil {
		return Policy{}, err
	}
	return out, nil
}

func normalizeList(kind string, list []string) ([]string, error) {
	if len(list) > MaxRules {
		return nil, fmt.Errorf("%w: egress %s list has %d rules, at most %d", errdefs.ErrInvalidArgument, kind, len(list), MaxRules)
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		n, err := normalizeRule(r)
		if err != nil {
			return nil, fmt.Errorf("%w: egress %s rule %q: %v", errdefs.ErrInvalidArgument, kind, r, err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// normalizeRule returns a rule's canonical spelling: a masked IPv4 CIDR,
// or a lower-case domain.
func normalizeRule(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" {
		return "", fmt.Errorf("empty")
	}
	if p, ok, err := parseCIDR(r); ok {
		if err != nil {
			return "", err
		}
		return p.String(), nil
	}
	d := strings.TrimSuffix(strings.ToLower(r), ".")
	if err := checkDomain(d); err != nil {
		return "", err
	}
	return d, nil
}

// parseCIDR parses r as an address or CIDR; ok is false if r does not look
// like one at all (so it may be a domain).
func parseCIDR(r string) (netip.Prefix, bool, error) {
	if !strings.ContainsAny(r, ":/") && strings.Trim(r, "0123456789.") != "" {
		return netip.Prefix{}, false, nil
	}
	var p netip.Prefix
	if strings.Contains(r, "/") {
		q, err := netip.ParsePrefix(r)
		if err != nil {
			return netip.Prefix{}, true, fmt.Errorf("not a CIDR: %v", err)
		}
		p = q.Masked()
	} else {
		a, err := netip.ParseAddr(r)
		if err != nil {
			return netip.Prefix{}, true, fmt.Errorf("not an address: %v", err)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if !p.Addr().Unmap().Is4() {
		return netip.Prefix{}, true, fmt.Errorf("sandboxes have IPv4 only")
	}
	return netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), 32)).Masked(), true, nil
}

// checkDomain accepts a DNS name, optionally starting with "*." to cover
// its subdomains.
func checkDomain(d string) error {
	name := strings.TrimPrefix(d, "*.")
	if len(name) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("not a CIDR, an address or a domain with at least two labels")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("label %q: want 1 to 63 characters", l)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("label %q: want letters, digits, '-' or '_'", l)
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", l)
		}
	}
	return nil
}

// Rules splits a policy into its kinds. p must be normalized.
func (p Policy) Rules() Rules {
	r := Rules{DenyAll: p.Default == Deny}
	split := func(list []string, cidrs *[]netip.Prefix, domains *[]string) {
		for _, s := range list {
			if pr, ok, err := parseCIDR(s); ok && err == nil {
				*cidrs = append(*cidrs, pr)
			} else {
				*domains = append(*domains, s)
			}
		}
	}
	split(p.Allow, &r.AllowCIDRs, &r.AllowDomains)
	split(p.Deny, &r.DenyCIDRs, &r.DenyDomains)
	return r
}

// Verdict says what the domain rules make of a looked-up name.
type Verdict int

// What a name's lookup is subject to.
const (
	NoRule  Verdict = iota // no domain rule names it
	Allowed                // an allow rule names it: its addresses become reachable
	Denied                 // a deny rule names it: the lookup fails
)

// Name returns the verdict of the domain rules on name (any case, trailing
// dot or not). Deny rules win.
func (r Rules) Name(name string) Verdict {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if slices.ContainsFunc(r.DenyDomains, func(d string) bool { return matches(d, name) }) {
		return Denied
	}
	if slices.ContainsFunc(r.AllowDomains, func(d string) bool { return matches(d, name) }) {
		return Allowed
	}
	return NoRule
}

// matches reports whether rule (a domain, or "*." and a domain) covers
// name. A plain domain covers itself only; a wildcard covers every
// subdomain and the domain itself.
func matches(rule, name string) bool {
	if base, ok := strings.CutPrefix(rule, "*."); ok {
		return name == base || strings.HasSuffix(name, "."+base)
	}
	return name == rule
}
