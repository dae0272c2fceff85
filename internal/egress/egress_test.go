package egress

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestNormalize(t *testing.T) {
	p, err := Policy{Default: "deny", Allow: []string{"API.github.com.", "10.1.2.3", "10.1.2.3/8", "*.npmjs.org", "10.1.2.3"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"*.npmjs.org", "10.0.0.0/8", "10.1.2.3/32", "api.github.com"}
	if !slices.Equal(p.Allow, want) {
		t.Errorf("allow = %q, want %q", p.Allow, want)
	}
	r := p.Rules()
	if !r.DenyAll || len(r.AllowCIDRs) != 2 || !slices.Equal(r.AllowDomains, []string{"*.npmjs.org", "api.github.com"}) {
		t.Errorf("rules = %+v", r)
	}
	if r.AllowCIDRs[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("cidr = %v", r.AllowCIDRs[0])
	}
	if d, _ := (Policy{}).Normalize(); d.Default != Allow || !d.IsDefault() {
		t.Errorf("zero policy normalizes to %+v", d)
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, bad := range []Policy{
		{Default: "maybe"},
		{Allow: []string{""}},
		{Allow: []string{"localhost"}},
		{Allow: []string{"::1"}},
		{Allow: []string{"fd00::/8"}},
		{Deny: []string{"10.0.0.0/33"}},
		{Deny: []string{"1.2.3.4.5"}},
		{Deny: []string{"exa mple.com"}},
		{Deny: []string{"-bad.com"}},
		{Deny: []string{"a..com"}},
		{Deny: []string{"*.*.com"}},
		{Allow: make([]string, MaxRules+1)},
	} {
		if _, err := bad.Normalize(); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%+v: err = %v, want invalid argument", bad, err)
		}
	}
}

func TestName(t *testing.T) {
	p, err := Policy{Allow: []string{"*.github.com", "example.org"}, Deny: []string{"evil.github.com"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules()
	for name, want := range map[string]Verdict{
		"github.com":          Allowed,
		"api.GitHub.com.":     Allowed,
		"evil.github.com":     Denied,
		"x.evil.github.com":   Allowed, // a plain deny covers the name itself only
		"example.org":         Allowed,
		"www.example.org":     NoRule,
		"notgithub.com":       NoRule,
		"github.com.evil.net": NoRule,
	} {
		if got := r.Name(name); got != want {
			t.Errorf("Name(%q) = %d, want %d", name, got, want)
		}
	}
}
