package resolver

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/runtools/runtools/internal/egress"
)

type fakeDir map[netip.Addr]Client

func (d fakeDir) Client(_ context.Context, a netip.Addr) (Client, bool) { c, ok := d[a]; return c, ok }
func (d fakeDir) Lookup(_ context.Context, team, name string) (netip.Addr, bool) {
	for a, c := range d {
		if c.Team == team && (c.ID == name || "n-"+c.ID == name) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

type resolvedCall struct {
	id    string
	addrs []netip.Addr
	allow bool
	ttl   time.Duration
}

type fakeFW struct{ calls []resolvedCall }

func (f *fakeFW) Resolved(_ context.Context, id string, addrs []netip.Addr, allow bool, ttl time.Duration) error {
	f.calls = append(f.calls, resolvedCall{id, addrs, allow, ttl})
	return nil
}

// upstream serves 192.0.2.10 for every A question, with TTL 30.
func upstream(t *testing.T) string {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(192, 0, 2, 10)})
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func rules(t *testing.T, p egress.Policy) egress.Rules {
	p, err := p.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	return p.Rules()
}

func TestAnswer(t *testing.T) {
	a, b, r, locked, picky := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.4"),
		netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6")
	dir := fakeDir{
		a:      {ID: "a", Team: "red"},
		b:      {ID: "b", Team: "red"},
		r:      {ID: "r", Team: "blue"},
		locked: {ID: "locked", Team: "red", Rules: rules(t, egress.Policy{Default: egress.Deny})},
		picky: {ID: "picky", Team: "red", Rules: rules(t, egress.Policy{Default: egress.Deny,
			Allow: []string{"*.good.example"}, Deny: []string{"bad.good.example"}})},
	}
	fw := &fakeFW{}
	s := New(dir, fw, nil, slog.New(slog.DiscardHandler))
	s.upstream = []string{upstream(t)}
	ask := func(from netip.Addr, name string, qtype uint16) *dns.Msg {
		t.Helper()
		req := new(dns.Msg)
		req.SetQuestion(dns.Fqdn(name), qtype)
		return s.answer(t.Context(), from, req, "udp")
	}
	answerIs := func(m *dns.Msg, want string) bool {
		return m.Rcode == dns.RcodeSuccess && len(m.Answer) == 1 && m.Answer[0].(*dns.A).A.String() == want
	}

	if m := ask(a, "b.internal", dns.TypeA); !answerIs(m, "10.0.0.3") {
		t.Errorf("a asks b.internal: %v", m)
	}
	if m := ask(a, "n-b.INTERNAL.", dns.TypeA); !answerIs(m, "10.0.0.3") {
		t.Errorf("a asks n-b.INTERNAL.: %v", m)
	}
	if m := ask(a, "b.internal", dns.TypeAAAA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Errorf("AAAA of b.internal: %v, want no data", m)
	}
	for _, name := range []string{"r.internal", "x.b.internal", "internal", "nobody.internal"} {
		if m := ask(a, name, dns.TypeA); m.Rcode != dns.RcodeNameError {
			t.Errorf("a asks %s: rcode %s, want NXDOMAIN", name, dns.RcodeToString[m.Rcode])
		}
	}
	if m := ask(r, "b.internal", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("another team asks b.internal: %v", m)
	}
	if m := ask(netip.MustParseAddr("10.9.9.9"), "example.com", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("an unknown address asks: %v, want REFUSED", m)
	}
	if m := ask(a, "example.com", dns.TypeA); !answerIs(m, "192.0.2.10") || len(fw.calls) != 0 {
		t.Errorf("allow-all sandbox: %v, firewall calls %v", m, fw.calls)
	}
	if m := ask(locked, "example.com", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("deny-all sandbox looked up a name: %v", m)
	}
	dir[netip.MustParseAddr("10.0.0.7")] = Client{ID: "sealed", Team: "red", Rules: rules(t, egress.Policy{Default: egress.Deny, Deny: []string{"bad.example"}})}
	if m := ask(netip.MustParseAddr("10.0.0.7"), "bad.example", dns.TypeA); m.Rcode != dns.RcodeRefused || len(fw.calls) != 0 {
		t.Errorf("deny-all sandbox asked a denied name: %v, firewall calls %v (it must not be forwarded)", m, fw.calls)
	}
	if m := ask(locked, "b.internal", dns.TypeA); !answerIs(m, "10.0.0.3") {
		t.Errorf("deny-all sandbox cannot find its team: %v", m)
	}
	if m := ask(picky, "api.good.example", dns.TypeA); !answerIs(m, "192.0.2.10") {
		t.Errorf("allowed domain: %v", m)
	}
	if len(fw.calls) != 1 || !fw.calls[0].allow || fw.calls[0].id != "picky" || fw.calls[0].ttl < minAllowTTL {
		t.Errorf("allowed domain: firewall calls %+v", fw.calls)
	}
	if m := ask(picky, "bad.good.example", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("denied domain: %v", m)
	}
	if len(fw.calls) != 2 || fw.calls[1].allow {
		t.Errorf("denied domain: its addresses not denied: %+v", fw.calls)
	}
	if m := ask(picky, "other.example", dns.TypeA); !answerIs(m, "192.0.2.10") || len(fw.calls) != 2 {
		t.Errorf("unlisted domain under deny: %v (resolves; the firewall denies its addresses)", m)
	}
}
