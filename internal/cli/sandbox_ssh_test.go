package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSSHHost(t *testing.T) {
	tests := []struct{ host, api, want string }{
		{"localhost", "http://127.0.0.1:7070", "localhost"},
		{"localhost", "http://devbox.example.com:7070", "devbox.example.com"}, // the server does not know its name
		{"127.0.0.1", "https://runtools.example.com", "runtools.example.com"},
		{"ssh.example.com", "http://10.0.0.5:7070", "ssh.example.com"}, // the server's word
		{"localhost", "::bad", "localhost"},
	}
	for _, tt := range tests {
		if got := sshHost(tt.host, tt.api); got != tt.want {
			t.Errorf("sshHost(%q, %q) = %q, want %q", tt.host, tt.api, got, tt.want)
		}
	}
}

func TestKnownHosts(t *testing.T) {
	dir := t.TempDir()
	a := &app{getenv: func(k string) string {
		if k == envConfig {
			return filepath.Join(dir, "config.json")
		}
		return ""
	}}
	const k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq9sVvq0eAAfH0cd6mXyzAdD0Mv+j1p7TnU9AXoJBkD"
	const k2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH5bJ3vZ0k3d1Jt2cQ0n7mXyzAdD0Mv+j1p7TnU9AXoJ"
	path, err := a.knownHosts("localhost", 2222, k1)
	if err != nil {
		t.Fatal(err)
	}
	a.knownHosts("other.example.com", 22, k1)
	a.knownHosts("localhost", 2222, k2) // the server's key changed: replaced, not added
	got, _ := os.ReadFile(path)
	want := "other.example.com " + k1 + "\n[localhost]:2222 " + k2 + "\n"
	if string(got) != want {
		t.Errorf("known_hosts:\n%s\nwant:\n%s", got, want)
	}
	if p, err := a.knownHosts("localhost", 2222, ""); p != "" || err != nil {
		t.Errorf("no key: %q, %v", p, err)
	}
	for _, bad := range []string{"garbage", "ssh-ed25519 !!!notbase64", "evil\nline ssh-ed25519 AAAA"} {
		if _, err := a.knownHosts("localhost", 2222, bad); err == nil {
			t.Errorf("host key %q accepted", bad)
		}
	}
	if got2, _ := os.ReadFile(path); !strings.HasSuffix(string(got2), k2+"\n") || strings.Count(string(got2), "\n") != 2 {
		t.Errorf("bad keys changed the file:\n%s", got2)
	}
}
