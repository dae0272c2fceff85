package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestPlace(t *testing.T) {
	now := time.Now()
	live := now.Add(time.Minute)
	nodes := []Node{
		{Name: "a", State: Ready, Slots: 10, Sandboxes: 5, Templates: []string{"base"}, LeaseEnd: live},
		{Name: "b", State: Ready, Slots: 10, Sandboxes: 2, Templates: []string{"base", "desktop"}, LeaseEnd: live},
		{Name: "c", State: Cordoned, Slots: 10, Templates: []string{"base", "desktop"}, LeaseEnd: live},
		{Name: "d", State: Ready, Slots: 10, Templates: []string{"base"}, LeaseEnd: now.Add(-time.Second)},
		{Name: "e", State: Ready, Slots: 1, Sandboxes: 1, Templates: []string{"base", "code"}, LeaseEnd: live},
	}
	for _, c := range []struct{ self, template, want, err string }{
		{"a", "base", "b", ""},     // the least loaded, not the cordoned or lost ones
		{"a", "desktop", "b", ""},  // only b and c hold it; c is cordoned
		{"a", "custom-x", "a", ""}, // no node holds it: self
		{"c", "custom-x", "", "c is cordoned"},
		{"a", "code", "", "e runs 1 of its 1 sandboxes"},
	} {
		got, err := Place(nodes, c.self, c.template, now)
		if c.err != "" {
			if !errors.Is(err, errdefs.ErrResourceExhausted) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s from %s: %v, want an error with %q", c.template, c.self, err, c.err)
			}
			continue
		}
		if err != nil || got.Name != c.want {
			t.Errorf("%s from %s: %s %v, want %s", c.template, c.self, got.Name, err, c.want)
		}
	}
	// A tie goes to self.
	tie := []Node{{Name: "x", State: Ready, Slots: 4, Templates: []string{"base"}, LeaseEnd: live}, {Name: "y", State: Ready, Slots: 4, Templates: []string{"base"}, LeaseEnd: live}}
	if got, _ := Place(tie, "y", "base", now); got.Name != "y" {
		t.Errorf("a tie from y went to %s", got.Name)
	}
}

func TestSigner(t *testing.T) {
	now := time.Now()
	s := NewSigner([]byte("secret"))
	tok := s.Sign("n1", now)
	if node, err := s.Verify(tok, now.Add(30*time.Second)); err != nil || node != "n1" {
		t.Errorf("a fresh token: %q %v", node, err)
	}
	for name, bad := range map[string]string{
		"expired":      tok,
		"other secret": NewSigner([]byte("other")).Sign("n1", now),
		"renamed":      "n2" + tok[2:],
		"malformed":    "garbage",
		"empty":        "",
		"no expiry":    "n1." + strings.Repeat("0", 64),
	} {
		at := now
		if name == "expired" {
			at = now.Add(TokenTTL + 2*time.Second)
		}
		if _, err := s.Verify(bad, at); !errors.Is(err, errdefs.ErrUnauthenticated) {
			t.Errorf("%s token accepted: %v", name, err)
		}
	}
}
