package proxy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

func TestParseHost(t *testing.T) {
	const d = "sandboxes.localhost"
	tests := []struct {
		host     string
		domain   string
		wantID   string
		wantPort int
		wantErr  error
	}{
		// Good.
		{host: "5173-sandbox-abc123xyz890.sandboxes.localhost:8080", wantID: "sandbox-abc123xyz890", wantPort: 5173},
		{host: "5173-sandbox-abc123xyz890.sandboxes.localhost", wantID: "sandbox-abc123xyz890", wantPort: 5173},
		{host: "1-sandbox-abcdefgh.sandboxes.localhost", wantID: "sandbox-abcdefgh", wantPort: 1},
		{host: "65535-sandbox-abcdefgh.sandboxes.localhost", wantID: "sandbox-abcdefgh", wantPort: 65535},
		{host: "80-sandbox-" + strings.Repeat("z9", 16) + ".sandboxes.localhost", wantID: "sandbox-" + strings.Repeat("z9", 16), wantPort: 80},
		{host: "3000-sandbox-abcdefgh.SANDBOXES.LocalHost:8080", wantID: "sandbox-abcdefgh", wantPort: 3000},
		{host: "3000-sandbox-abcdefgh.sandboxes.localhost.", wantID: "sandbox-abcdefgh", wantPort: 3000},
		{host: "3000-sandbox-abcdefgh.sandboxes.localhost.:8080", wantID: "sandbox-abcdefgh", wantPort: 3000},
		{host: "3000-sandbox-abcdefgh.sandboxes.localhost", domain: "Sandboxes.Localhost.", wantID: "sandbox-abcdefgh", wantPort: 3000},
		{host: "3000-sandbox-abcdefgh.run.example.com", domain: "run.example.com", wantID: "sandbox-abcdefgh", wantPort: 3000},

		// The domain itself: no sandbox.
		{host: "sandboxes.localhost", wantErr: errdefs.ErrNotFound},
		{host: "sandboxes.localhost:8080", wantErr: errdefs.ErrNotFound},
		{host: "SANDBOXES.localhost.", wantErr: errdefs.ErrNotFound},

		// Bad ports.
		{host: "0-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "65536-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "99999-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "100000-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "05173-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "-5173-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "+5173-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "51a3-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "0x50-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},

		// Bad listen ports.
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost:", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost:http", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost:08080", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost:80:80", wantErr: errdefs.ErrInvalidArgument},

		// Bad IDs.
		{host: "5173-sandbox-abcdefg.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-" + strings.Repeat("a", 33) + ".sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-ABCDEFGH.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-SANDBOX-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcd_efgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcd-efgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-box-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdéfgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},

		// Extra labels, wrong domains.
		{host: "x.5173-sandbox-abcdefgh.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.x.sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost.evil.com", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.evilsandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefghsandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost..", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh..sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxeſ.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "127.0.0.1:8080", wantErr: errdefs.ErrInvalidArgument},
		{host: "[::1]:8080", wantErr: errdefs.ErrInvalidArgument},
		{host: "", wantErr: errdefs.ErrInvalidArgument},
		{host: ".sandboxes.localhost", wantErr: errdefs.ErrInvalidArgument},
		{host: "5173-sandbox-abcdefgh.sandboxes.localhost", domain: ".", wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			domain := tt.domain
			if domain == "" {
				domain = d
			}
			id, port, err := ParseHost(tt.host, domain)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseHost(%q) = %q, %d, %v; want error %v", tt.host, id, port, err, tt.wantErr)
				}
				return
			}
			if err != nil || id != tt.wantID || port != tt.wantPort {
				t.Fatalf("ParseHost(%q) = %q, %d, %v; want %q, %d", tt.host, id, port, err, tt.wantID, tt.wantPort)
			}
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	res := newFakeResolver(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "defaults", cfg: Config{SigningKey: testKey}},
		{name: "short key", cfg: Config{SigningKey: testKey[:31]}, wantErr: true},
		{name: "no key", cfg: Config{}, wantErr: true},
		{name: "domain with port", cfg: Config{Domain: "example.com:80", SigningKey: testKey}, wantErr: true},
		{name: "domain with scheme", cfg: Config{Domain: "http://example.com", SigningKey: testKey}, wantErr: true},
		{name: "IP domain", cfg: Config{Domain: "10.0.0.1", SigningKey: testKey}, wantErr: true},
		{name: "empty label", cfg: Config{Domain: "a..b", SigningKey: testKey}, wantErr: true},
		{name: "public port", cfg: Config{PublicPort: 70000, SigningKey: testKey}, wantErr: true},
		{name: "reserved port 0", cfg: Config{ReservedPorts: []int{0}, SigningKey: testKey}, wantErr: true},
		{name: "cert without key", cfg: Config{CertFile: "c.pem", SigningKey: testKey}, wantErr: true},
		{name: "missing cert files", cfg: Config{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem", SigningKey: testKey}, wantErr: true},
		{name: "ACME without cache", cfg: Config{ACME: true, SigningKey: testKey}, wantErr: true},
		{name: "ACME and files", cfg: Config{ACME: true, ACMECacheDir: t.TempDir(), CertFile: "c", KeyFile: "k", SigningKey: testKey}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, res, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: %v, want error: %v", err, tt.wantErr)
			}
			// Missing files surface as the os error, wrapped.
			if err != nil && tt.name != "missing cert files" && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %v is not an invalid argument", err)
			}
		})
	}
	if _, err := New(Config{SigningKey: testKey}, nil, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("New without a resolver: %v", err)
	}
}

func TestURL(t *testing.T) {
	res := newFakeResolver(t)
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{PublicPort: 8080}, "http://5173-sandbox-abcdefgh.sandboxes.localhost:8080/"},
		{Config{}, "http://5173-sandbox-abcdefgh.sandboxes.localhost/"},
		{Config{PublicPort: 80}, "http://5173-sandbox-abcdefgh.sandboxes.localhost/"},
		{Config{PublicPort: 443}, "http://5173-sandbox-abcdefgh.sandboxes.localhost:443/"},
		{Config{Domain: "Run.Example.COM.", PublicPort: 80}, "http://5173-sandbox-abcdefgh.run.example.com/"},
		{Config{ACME: true, ACMECacheDir: t.TempDir(), Domain: "run.example.com", PublicPort: 443}, "https://5173-sandbox-abcdefgh.run.example.com/"},
		{Config{ACME: true, ACMECacheDir: t.TempDir(), Domain: "run.example.com", PublicPort: 8443}, "https://5173-sandbox-abcdefgh.run.example.com:8443/"},
	}
	for _, tt := range tests {
		tt.cfg.SigningKey = testKey
		p, err := New(tt.cfg, res, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.URL("sandbox-abcdefgh", 5173); got != tt.want {
			t.Errorf("URL with %+v = %q, want %q", tt.cfg, got, tt.want)
		}
		id, port, err := ParseHost(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(tt.want, "http://"), "https://"), "/"), p.domain)
		if err != nil || id != "sandbox-abcdefgh" || port != 5173 {
			t.Errorf("ParseHost of URL %q = %q, %d, %v", tt.want, id, port, err)
		}
	}
}

func TestSignedURL(t *testing.T) {
	p, err := New(Config{PublicPort: 8080, SigningKey: testKey}, newFakeResolver(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 500_000_000)
	p.now = func() time.Time { return now }
	got := p.SignedURL(idA, 5173, time.Hour)
	prefix := "http://5173-" + idA + ".sandboxes.localhost:8080/?runtools_link="
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("SignedURL = %q, want prefix %q", got, prefix)
	}
	link := strings.TrimPrefix(got, prefix)
	if g := p.verify(purposeLink, idA, 5173, link); !g.ok || g.expires.Unix() != 1_700_003_601 {
		t.Errorf("verify(%q) = %+v, want expiry 1700003601 (an hour, rounded up)", link, g)
	}
	// The last character carries 2 unused bits: another spelling of the
	// same MAC is refused too.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, link[len(link)-1])
	if sibling := link[:len(link)-1] + string(alphabet[last^1]); p.verify(purposeLink, idA, 5173, sibling).ok {
		t.Errorf("verify accepts %q, another spelling of %q", sibling, link)
	}
	now = now.Add(time.Hour + time.Second)
	if p.verify(purposeLink, idA, 5173, link).ok {
		t.Error("the link is still valid after its ttl")
	}
}
