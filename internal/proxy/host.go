package proxy

import (
	"fmt"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

const (
	idPrefix   = "sandbox-"
	idMinChars = 8  // after the prefix
	idMaxChars = 32 // after the prefix
)

// ParseHost splits a request host of the shape {port}-{sandboxId}.{domain},
// with an optional :listenport suffix and trailing dot, into the sandbox ID
// and port. The domain is matched without regard to ASCII case; the port is
// 1..65535 in decimal without sign or leading zero; the ID is sandbox-
// followed by 8 to 32 of a-z and 0-9. A host that is the domain itself gives
// an error wrapping errdefs.ErrNotFound (no sandbox named); any other
// mismatch wraps errdefs.ErrInvalidArgument.
func ParseHost(host string, domain string) (sandboxID string, port int, err error) {
	bad := func(why string) error {
		return &HostError{Host: host, Why: why, kind: errdefs.ErrInvalidArgument}
	}
	domain = strings.TrimSuffix(domain, ".")
	if domain == "" {
		return "", 0, bad("the domain is empty")
	}
	h := host
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		if _, ok := parsePort(h[i+1:]); !ok {
			return "", 0, bad("the listen port is not a number from 1 to 65535")
		}
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if asciiEqualFold(h, domain) {
		return "", 0, &HostError{Host: host, Why: "it names no sandbox", kind: errdefs.ErrNotFound}
	}
	n := len(h) - len(domain)
	if n < 2 || h[n-1] != '.' || !asciiEqualFold(h[n:], domain) {
		return "", 0, bad("not under " + domain)
	}
	portText, id, ok := strings.Cut(h[:n-1], "-")
	if !ok {
		return "", 0, bad("the first label is not {port}-{sandbox id}")
	}
	port, ok = parsePort(portText)
	if !ok {
		return "", 0, bad("the port is not a number from 1 to 65535")
	}
	if !validID(id) {
		return "", 0, bad(fmt.Sprintf("the sandbox id is not %s followed by %d to %d of a-z and 0-9",
			idPrefix, idMinChars, idMaxChars))
	}
	return id, port, nil
}

// HostError says why ParseHost refused a host. It wraps
// errdefs.ErrNotFound for the bare domain, else errdefs.ErrInvalidArgument.
type HostError struct {
	Host string
	Why  string
	kind error
}

func (e *HostError) Error() string { return fmt.Sprintf("host %q: %s: %v", e.Host, e.Why, e.kind) }

func (e *HostError) Unwrap() error { return e.kind }

// parsePort parses 1..65535 in decimal, without sign or leading zero.
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= 65535
}

// validID reports whether id is sandbox- followed by 8 to 32 of a-z, 0-9.
func validID(id string) bool {
	rest, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(rest) < idMinChars || len(rest) > idMaxChars {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isLowerAlnum(rest[i]) {
			return false
		}
	}
	return true
}

// hostName formats the host of a sandbox port, without the listen port.
func hostName(sandboxID string, port int, domain string) string {
	return fmt.Sprintf("%d-%s.%s", port, sandboxID, domain)
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// asciiLower lowercases ASCII letters only (hostnames are ASCII; Unicode
// case folding would let "K" (U+212A) match "k").
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
