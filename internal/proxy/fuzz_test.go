package proxy

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// FuzzParseHost checks that ParseHost never panics and that every host it
// accepts round-trips: formatting the parsed id and port back gives the
// same host, modulo ASCII case, the listen port and a trailing dot.
func FuzzParseHost(f *testing.F) {
	const domain = "sandboxes.localhost"
	for _, seed := range []string{
		"5173-sandbox-abc123xyz890.sandboxes.localhost:8080",
		"1-sandbox-abcdefgh.SANDBOXES.localhost.",
		"65536-sandbox-abcdefgh.sandboxes.localhost",
		"sandboxes.localhost",
		"05-sandbox-abcdefgh.sandboxes.localhost:",
	} {
		f.Add(seed)
	}
	idRE := regexp.MustCompile(`^sandbox-[a-z0-9]{8,32}$`)
	f.Fuzz(func(t *testing.T, host string) {
		id, port, err := ParseHost(host, domain)
		if err != nil {
			return
		}
		if !idRE.MatchString(id) || port < 1 || port > 65535 {
			t.Fatalf("ParseHost(%q) accepted id %q port %d", host, id, port)
		}
		bare := host
		if i := strings.LastIndexByte(bare, ':'); i >= 0 {
			bare = bare[:i]
		}
		bare = strings.TrimSuffix(bare, ".")
		want := fmt.Sprintf("%d-%s.%s", port, id, domain)
		if asciiLower(bare) != want {
			t.Fatalf("ParseHost(%q) = %q, %d: formats back as %q", host, id, port, want)
		}
	})
}
