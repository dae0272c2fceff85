package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMissingKey(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "RUNTOOLS_API_KEY")
	r := h.run("sandbox", "list")
	want := "error: no API key: set RUNTOOLS_API_KEY, pass --api-key, or run `runtools login`\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("got %+v, want stderr %q", r, want)
	}
}

func TestWrongKey(t *testing.T) {
	h := newHarness(t)
	r := h.run("--api-key", "rt_wrong", "sandbox", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid API key: check the API key") {
		t.Fatalf("got %+v", r)
	}
}

func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := saveConfig(cfg, config{URL: "http://file:1", APIKey: "file-key"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		flagURL, flagKey string
		env              map[string]string
		wantURL, wantKey string
	}{
		{"file only", "", "", nil, "http://file:1", "file-key"},
		{"env beats file", "", "", map[string]string{"RUNTOOLS_URL": "http://env:2", "RUNTOOLS_API_KEY": "env-key"}, "http://env:2", "env-key"},
		{"flags beat env", "http://flag:3", "flag-key", map[string]string{"RUNTOOLS_URL": "http://env:2", "RUNTOOLS_API_KEY": "env-key"}, "http://flag:3", "flag-key"},
		{"each setting on its own", "", "flag-key", map[string]string{"RUNTOOLS_URL": "http://env:2"}, "http://env:2", "flag-key"},
		{"default URL", "", "", map[string]string{"RUNTOOLS_CONFIG": filepath.Join(dir, "none.json"), "RUNTOOLS_API_KEY": "k"}, "http://127.0.0.1:7070", "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"RUNTOOLS_CONFIG": cfg}
			for k, v := range tt.env {
				env[k] = v
			}
			a := &app{url: tt.flagURL, apiKey: tt.flagKey, getenv: func(k string) string { return env[k] }}
			url, key, err := a.settings()
			if err != nil || url != tt.wantURL || key != tt.wantKey {
				t.Errorf("settings() = %q, %q, %v; want %q, %q", url, key, err, tt.wantURL, tt.wantKey)
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"RUNTOOLS_CONFIG": "/x/c.json", "XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}, "/x/c.json"},
		{map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/runtools/config.json"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.config/runtools/config.json"},
	}
	for _, tt := range tests {
		a := &app{getenv: func(k string) string { return tt.env[k] }}
		if got, err := a.configPath(); err != nil || got != tt.want {
			t.Errorf("configPath() with %v = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "RUNTOOLS_API_KEY")
	p := h.env["RUNTOOLS_CONFIG"]
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run("sandbox", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "is not valid JSON") || !strings.Contains(r.stderr, "runtools login") {
		t.Fatalf("got %+v", r)
	}
}

func TestLogin(t *testing.T) {
	h := newHarness(t)
	url := h.env["RUNTOOLS_URL"]
	delete(h.env, "RUNTOOLS_API_KEY")
	delete(h.env, "RUNTOOLS_URL")
	cfgDir := filepath.Join(t.TempDir(), "xdg")
	delete(h.env, "RUNTOOLS_CONFIG")
	h.env["XDG_CONFIG_HOME"] = cfgDir
	h.stdin = testKey + "\n"

	r := h.run("login", "--url", url+"/")
	if r.code != 0 || r.stdout != "logged in to "+url+" as team acme\n" {
		t.Fatalf("login: %+v", r)
	}
	p := filepath.Join(cfgDir, "runtools", "config.json")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(p)); di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", di.Mode().Perm())
	}
	// Later commands find the server and key in the config.
	h.stdin = ""
	if r := h.run("sandbox", "get", "my-env", "-o", "json"); r.code != 0 {
		t.Fatalf("after login: %+v", r)
	}
}

func TestLoginRejected(t *testing.T) {
	h := newHarness(t)
	r := h.run("login", "--api-key", "rt_wrong")
	if r.code != 1 || !strings.Contains(r.stderr, "rejected this API key") {
		t.Fatalf("got %+v", r)
	}
	if _, err := os.Stat(h.env["RUNTOOLS_CONFIG"]); err == nil {
		t.Error("config written for a rejected key")
	}
}

func TestLoginNoKey(t *testing.T) {
	h := newHarness(t)
	h.stdin = "\n"
	r := h.run("login")
	if r.code != 2 || !strings.Contains(r.stderr, "no API key given") {
		t.Fatalf("got %+v", r)
	}
}
