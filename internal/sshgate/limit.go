package sshgate

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// A limiter holds one token bucket per key (a source address or a user
// name). Buckets that have refilled are forgotten, so the map only holds
// keys seen in the last burst/rate seconds.
type limiter struct {
	rate  float64 // tokens per second
	burst float64

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens  float64
	last    time.Time
	limited bool // a request was refused since the last one allowed
}

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{rate: perSecond, burst: float64(burst), buckets: make(map[string]*bucket)}
}

// allow takes a token from key's bucket if there is one. first is true for
// the first refusal after an allowed request, so callers can log once per
// burst of refusals rather than once per attempt.
func (l *limiter) allow(key string, now time.Time) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if l.refill(b, now) >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = l.refill(b, now)
	b.last = now
	if b.tokens < 1-1e-9 { // refills add up fractions

		first = !b.limited
		b.limited = true
		return false, first
	}
	b.tokens = max(0, b.tokens-1)
	b.limited = false
	return true, false
}

func (l *limiter) refill(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
}

// sourceKey is the rate-limiting key of a remote address: the IP, or its
// /64 for IPv6, where one host usually has a whole prefix.
func sourceKey(addr net.Addr) string {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return addr.String()
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// userKey is the rate-limiting key of a login name.
func userKey(user string) string {
	const max = 128
	if len(user) > max {
		user = user[:max]
	}
	return strings.ToLower(user)
}

// Limits on connections still in the handshake or authentication, like
// OpenSSH's MaxStartups: one source cannot hold every slot.
const (
	maxStartups          = 256
	maxStartupsPerSource = 16
)

type startups struct {
	perSource, total int

	mu     sync.Mutex
	n      int
	source map[string]int
}

func newStartups(perSource, total int) *startups {
	return &startups{perSource: perSource, total: total, source: make(map[string]int)}
}

func (s *startups) acquire(src string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= s.total || s.source[src] >= s.perSource {
		return false
	}
	s.n++
	s.source[src]++
	return true
}

func (s *startups) release(src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n--
	if s.source[src]--; s.source[src] <= 0 {
		delete(s.source, src)
	}
}
