package template

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNpmrcDropsCredentials(t *testing.T) {
	host := filepath.Join(t.TempDir(), "npmrc")
	content := "cafile=/etc/ssl/certs/ca-certificates.crt\n//registry.example/:_authToken=secret\n_auth=c2VjcmV0\nregistry=https://registry.example/\n"
	if err := os.WriteFile(host, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &DebianBuilder{HostNpmrc: host, Npm: "no-such-npm", log: slog.New(slog.DiscardHandler)}
	got, err := b.npmrc(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	if strings.Contains(s, "secret") || strings.Contains(s, "c2VjcmV0") {
		t.Fatalf("credentials copied: %q", s)
	}
	if !strings.Contains(s, "cafile=/etc/ssl/certs/ca-certificates.crt\n") || strings.Count(s, "registry=") != 1 {
		t.Fatalf("npmrc %q", s)
	}
}
