// Package resolver is the DNS server sandboxes use, on their gateway. It
// answers NAME.internal with the address of the asking sandbox's team
// member called NAME (its name or ID), and forwards every other question
// to the host's nameservers, applying the asking sandbox's domain rules:
// a denied name fails to resolve, and an allowed name's addresses are let
// through the sandbox's firewall before the answer goes out. The firewall
// checks addresses, so a name that resolves to a denied address stays
// denied.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/runtools/runtools/internal/egress"
)

// Zone is the suffix of team members' names.
const Zone = "internal."

// Client is a sandbox asking.
type Client struct {
	ID, Team string
	Rules    egress.Rules
}

// Directory finds sandboxes.
type Directory interface {
	// Client returns the live sandbox at addr.
	Client(ctx context.Context, addr netip.Addr) (Client, bool)
	// Lookup returns the address of the team's live sandbox called name
	// (its name or ID).
	Lookup(ctx context.Context, team, name string) (netip.Addr, bool)
}

// Firewall lets a sandbox reach, or stops it from reaching, the addresses
// a name resolved to.
type Firewall interface {
	Resolved(ctx context.Context, id string, addrs []netip.Addr, allow bool, ttl time.Duration) error
}

// Timings of answers.
const (
	internalTTL  = 5               // seconds: team members come and go
	minAllowTTL  = 5 * time.Minute // an allowed address outlives short TTLs: apps cache answers
	upstreamWait = 3 * time.Second // per nameserver
)

// Server answers sandboxes' questions.
type Server struct {
	dir      Directory
	fw       Firewall
	upstream []string // host:port
	log      *slog.Logger

	mu      sync.Mutex
	servers []*dns.Server
}

// New returns a server forwarding to the nameservers upstream.
func New(dir Directory, fw Firewall, upstream []netip.Addr, log *slog.Logger) *Server {
	s := &Server{dir: dir, fw: fw, log: log.With("component", "resolver")}
	for _, a := range upstream {
		s.upstream = append(s.upstream, netip.AddrPortFrom(a, 53).String())
	}
	return s
}

// Listen starts serving UDP and TCP on addr (the gateway, port 53) and
// returns once both listen. Close stops them.
func (s *Server) Listen(addr netip.AddrPort) error {
	pc, err := net.ListenPacket("udp4", addr.String())
	if err != nil {
		return fmt.Errorf("resolver: listening on udp %s: %w", addr, err)
	}
	ln, err := net.Listen("tcp4", addr.String())
	if err != nil {
		pc.Close()
		return fmt.Errorf("resolver: listening on tcp %s: %w", addr, err)
	}
	h := dns.HandlerFunc(s.serve)
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second}
	s.mu.Lock()
	s.servers = append(s.servers, udp, tcp)
	s.mu.Unlock()
	for _, srv := range []*dns.Server{udp, tcp} {
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				s.log.Warn("resolver stopped", "err", err)
			}
		}()
	}
	s.log.Info("resolver ready", "listen", addr, "upstream", s.upstream)
	return nil
}

// Close stops serving.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown())
	}
	s.servers = nil
	return errors.Join(errs...)
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*upstreamWait)
	defer cancel()
	reply := s.answer(ctx, remoteAddr(w), req, w.LocalAddr().Network())
	if err := w.WriteMsg(reply); err != nil {
		s.log.Debug("writing answer", "err", err)
	}
}

func remoteAddr(w dns.ResponseWriter) netip.Addr {
	ap, err := netip.ParseAddrPort(w.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// answer makes the reply to req from the sandbox at from.
func (s *Server) answer(ctx context.Context, from netip.Addr, req *dns.Msg, network string) *dns.Msg {
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		return fail(req, dns.RcodeNotImplemented)
	}
	c, ok := s.dir.Client(ctx, from)
	if !ok {
		return fail(req, dns.RcodeRefused)
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if name == Zone || strings.HasSuffix(name, "."+Zone) {
		return s.internal(ctx, c, req, strings.TrimSuffix(name, "."+Zone))
	}
	verdict := c.Rules.Name(name)
	switch {
	case c.Rules.DenyAll && len(c.Rules.AllowCIDRs) == 0 && len(c.Rules.AllowDomains) == 0:
		// Egress is off: lookups must not carry data out either.
		return fail(req, dns.RcodeRefused)
	case verdict == egress.Denied:
		// Its addresses become unreachable too, in case they are known
		// some other way (an allowed CIDR holding them, say).
		if reply, err := s.forward(ctx, req, network); err == nil {
			if addrs, ttl := addresses(reply); len(addrs) > 0 {
				if err := s.fw.Resolved(ctx, c.ID, addrs, false, max(ttl, minAllowTTL)); err != nil {
					s.log.Warn("denying what a sandbox resolved", "sandbox", c.ID, "name", name, "err", err)
				}
			}
		}
		return fail(req, dns.RcodeNameError)
	}
	reply, err := s.forward(ctx, req, network)
	if err != nil {
		s.log.Debug("forwarding a question", "sandbox", c.ID, "name", name, "err", err)
		return fail(req, dns.RcodeServerFailure)
	}
	if verdict == egress.Allowed {
		addrs, ttl := addresses(reply)
		if err := s.fw.Resolved(ctx, c.ID, addrs, true, max(ttl, minAllowTTL)); err != nil {
			s.log.Warn("letting a sandbox reach what it resolved", "sandbox", c.ID, "name", name, "err", err)
			return fail(req, dns.RcodeServerFailure)
		}
	}
	return reply
}

// internal answers for a team member.
func (s *Server) internal(ctx context.Context, c Client, req *dns.Msg, name string) *dns.Msg {
	q := req.Question[0]
	addr, ok := netip.Addr{}, false
	if name != "" && !strings.Contains(name, ".") {
		addr, ok = s.dir.Lookup(ctx, c.Team, name)
	}
	if !ok {
		return fail(req, dns.RcodeNameError)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: internalTTL},
			A:   addr.AsSlice(),
		})
	}
	return m
}

// forward asks the upstream nameservers in turn.
func (s *Server) forward(ctx context.Context, req *dns.Msg, network string) (*dns.Msg, error) {
	if len(s.upstream) == 0 {
		return nil, errors.New("no upstream nameserver")
	}
	var errs []error
	for _, up := range s.upstream {
		cl := &dns.Client{Net: network, Timeout: upstreamWait}
		reply, _, err := cl.ExchangeContext(ctx, req, up)
		if err == nil && reply.Truncated && network == "udp" {
			cl.Net = "tcp"
			reply, _, err = cl.ExchangeContext(ctx, req, up)
		}
		if err == nil {
			return reply, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", up, err))
	}
	return nil, errors.Join(errs...)
}

// addresses returns the IPv4 addresses of an answer and its smallest TTL.
func addresses(m *dns.Msg) ([]netip.Addr, time.Duration) {
	var out []netip.Addr
	ttl := uint32(0)
	for _, rr := range m.Answer {
		a, ok := rr.(*dns.A)
		if !ok {
			continue
		}
		if addr, ok := netip.AddrFromSlice(a.A.To4()); ok {
			out = append(out, addr)
			if ttl == 0 || a.Hdr.Ttl < ttl {
				ttl = a.Hdr.Ttl
			}
		}
	}
	return out, time.Duration(ttl) * time.Second
}

func fail(req *dns.Msg, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	return m
}
