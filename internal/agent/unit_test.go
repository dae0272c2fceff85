package agent

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUserLookup(t *testing.T) {
	dir := t.TempDir()
	db := userDB{passwd: filepath.Join(dir, "passwd"), group: filepath.Join(dir, "group")}
	writeFile(t, db.passwd, `# comment
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/zsh
broken line
`)
	writeFile(t, db.group, `root:x:0:
nogroup:x:65534:
alice:x:1000:
docker:x:999:alice,bob
wheel:x:10:bob
`)
	tests := []struct {
		spec    string
		want    user
		wantErr error
	}{
		{spec: "", want: user{Name: "root", UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root", Shell: "/bin/bash"}},
		{spec: "root", want: user{Name: "root", UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root", Shell: "/bin/bash"}},
		{spec: "alice", want: user{Name: "alice", UID: 1000, GID: 1000, Groups: []uint32{1000, 999}, Home: "/home/alice", Shell: "/bin/zsh"}},
		{spec: "1000", want: user{Name: "alice", UID: 1000, GID: 1000, Groups: []uint32{1000, 999}, Home: "/home/alice", Shell: "/bin/zsh"}},
		{spec: "alice:wheel", want: user{Name: "alice", UID: 1000, GID: 10, Groups: []uint32{10, 999}, Home: "/home/alice", Shell: "/bin/zsh"}},
		{spec: "1000:5", want: user{Name: "alice", UID: 1000, GID: 5, Groups: []uint32{5, 999}, Home: "/home/alice", Shell: "/bin/zsh"}},
		{spec: "4242", want: user{Name: "4242", UID: 4242, GID: 4242, Groups: []uint32{4242}, Home: "/", Shell: "/bin/sh"}},
		{spec: "4242:7", want: user{Name: "4242", UID: 4242, GID: 7, Groups: []uint32{7}, Home: "/", Shell: "/bin/sh"}},
		{spec: "nobody", want: user{Name: "nobody", UID: 65534, GID: 65534, Groups: []uint32{65534}, Home: "/nonexistent", Shell: "/usr/sbin/nologin"}},
		{spec: "mallory", wantErr: errdefs.ErrInvalidArgument},
		{spec: "alice:nogrp", wantErr: errdefs.ErrInvalidArgument},
		{spec: "alice:", wantErr: errdefs.ErrInvalidArgument},
		{spec: ":1", wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := db.lookup(tt.spec)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("lookup(%q) error = %v, want %v", tt.spec, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if got.Name != tt.want.Name || got.UID != tt.want.UID || got.GID != tt.want.GID ||
				!slices.Equal(got.Groups, tt.want.Groups) || got.Home != tt.want.Home || got.Shell != tt.want.Shell {
				t.Errorf("lookup(%q) = %+v, want %+v", tt.spec, *got, tt.want)
			}
		})
	}
}

func TestUserLookupWithoutAccountFiles(t *testing.T) {
	dir := t.TempDir()
	db := userDB{passwd: filepath.Join(dir, "passwd"), group: filepath.Join(dir, "group")}
	u, err := db.lookup("")
	if err != nil {
		t.Fatal(err)
	}
	if u.UID != 0 || u.Home != "/root" || u.Name != "root" {
		t.Errorf("root without /etc/passwd = %+v", *u)
	}
	if _, err := db.lookup("alice"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("unknown name: err = %v", err)
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
		ok   bool
	}{
		{"TERM", syscall.SIGTERM, true},
		{"sigkill", syscall.SIGKILL, true},
		{"SIGUSR1", syscall.SIGUSR1, true},
		{"9", syscall.SIGKILL, true},
		{"cont", syscall.SIGCONT, true},
		{"BOGUS", 0, false},
		{"0", 0, false},
		{"65", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSignal(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSignal(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseSignal(%q) error kind = %v", tt.in, err)
		}
	}
}

func TestParseStat(t *testing.T) {
	state, ppid, ok := parseStat([]byte("42 (we ird) (name)) Z 1 42 42 0 -1"))
	if !ok || state != 'Z' || ppid != 1 {
		t.Errorf("parseStat = %c %d %v", state, ppid, ok)
	}
	if _, _, ok := parseStat([]byte("garbage")); ok {
		t.Error("parseStat accepted garbage")
	}
	pgrp, sid, ok := parseStatGroup([]byte("42 (we ird) (name)) S 1 40 30 0 -1"))
	if !ok || pgrp != 40 || sid != 30 {
		t.Errorf("parseStatGroup = %d %d %v", pgrp, sid, ok)
	}
	if _, _, ok := parseStatGroup([]byte("42 (x) S 1")); ok {
		t.Error("parseStatGroup accepted a short line")
	}
}

func TestZombiesScan(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "10", "stat"), "10 (sh) Z 7 10 10 0")
	writeFile(t, filepath.Join(dir, "11", "stat"), "11 (sleep) S 7 11 11 0")
	writeFile(t, filepath.Join(dir, "12", "stat"), "12 (x) Z 99 12 12 0")
	writeFile(t, filepath.Join(dir, "self", "stat"), "1 (agent) S 0 1 1 0")
	got, err := zombies(dir, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{10}) {
		t.Errorf("zombies = %v, want [10]", got)
	}
}

// TestReapSkipsRegisteredChildren checks the reaper's contract without being
// PID 1: an unregistered zombie child is reaped, a registered one is left
// for os/exec, which still gets its exit status.
func TestReapSkipsRegisteredChildren(t *testing.T) {
	sp := newSpawner(0, slog.New(slog.DiscardHandler))

	orphan, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 0"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	own := exec.Command("/bin/sh", "-c", "exit 7")
	if err := sp.start(own); err != nil {
		t.Fatal(err)
	}
	mine := map[int]bool{orphan: true, own.Process.Pid: true}

	// Wait until both are zombies.
	var found []int
	deadline := time.Now().Add(5 * time.Second)
	for len(found) < 2 && time.Now().Before(deadline) {
		all, err := zombies("/proc", os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		found = found[:0]
		for _, pid := range all {
			if mine[pid] { // never touch other tests' children
				found = append(found, pid)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(found) != 2 {
		t.Fatalf("zombies found = %v, want %d and %d", found, orphan, own.Process.Pid)
	}
	if n := sp.reap(found); n != 1 {
		t.Errorf("reaped %d, want 1", n)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(orphan, &ws, syscall.WNOHANG, nil); !errors.Is(err, syscall.ECHILD) {
		t.Errorf("orphan still waitable after reap: %v", err)
	}
	err = sp.wait(own)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Errorf("registered child's Wait = %v, want exit status 7", err)
	}
}

func TestOutputLogRing(t *testing.T) {
	o := newOutputLog(10)
	o.append(agentapi.EventStdout, []byte("0123"))
	o.append(agentapi.EventStderr, []byte("4567"))
	o.append(agentapi.EventStdout, []byte("89ab"))
	chunks, next, done, _, _ := o.since(0)
	var got string
	for _, c := range chunks {
		got += string(c.data)
	}
	if got != "23456789ab" || next != 3 || done {
		t.Errorf("since(0) = %q next=%d done=%v", got, next, done)
	}
	if chunks[1].typ != agentapi.EventStderr {
		t.Errorf("chunk tags lost: %+v", chunks)
	}
	o.append(agentapi.EventStdout, []byte("0123456789xyz"))
	chunks, _, _, _, _ = o.since(3)
	if len(chunks) != 1 || string(chunks[0].data) != "3456789xyz" {
		t.Errorf("oversized chunk = %+v", chunks)
	}
	changed := func() <-chan struct{} { _, _, _, _, c := o.since(4); return c }()
	code := 0
	o.finish(agentapi.Event{Type: agentapi.EventExit, ExitCode: &code})
	select {
	case <-changed:
	default:
		t.Error("finish did not notify followers")
	}
	if _, _, done, exit, _ := o.since(4); !done || exit.Type != agentapi.EventExit {
		t.Errorf("after finish: done=%v exit=%+v", done, exit)
	}
}

func TestEntryName(t *testing.T) {
	for name, ok := range map[string]bool{
		"a":           true,
		"a/b/":        true,
		"./a":         true,
		"a/../b":      true,
		".":           true,
		"./":          true,
		"../a":        false,
		"a/../../b":   false,
		"/etc/passwd": false,
		"":            false,
		"..":          false,
	} {
		if _, err := entryName(name); (err == nil) != ok {
			t.Errorf("entryName(%q) err = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(agentapi.EnvToken, "s3cret")
	t.Setenv(agentapi.EnvDNS, " 1.1.1.1, 8.8.8.8 ,")
	t.Setenv(agentapi.EnvHostname, "box")
	t.Setenv(agentapi.EnvNproc, "512")
	t.Setenv("HOME", "/agent-home")
	t.Setenv("IMAGE_VAR", "from-image")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Token != "s3cret" || cfg.Hostname != "box" || cfg.Nproc != 512 ||
		!slices.Equal(cfg.DNS, []string{"1.1.1.1", "8.8.8.8"}) || cfg.Listen != ":49983" {
		t.Errorf("cfg = %+v", cfg)
	}
	for _, k := range agentVars {
		if _, ok := os.LookupEnv(k); ok {
			t.Errorf("%s still set", k)
		}
		if _, ok := cfg.Env[k]; ok {
			t.Errorf("%s passed on to children", k)
		}
	}
	if cfg.Env["IMAGE_VAR"] != "from-image" {
		t.Errorf("image env not kept: %v", cfg.Env["IMAGE_VAR"])
	}
	if _, ok := cfg.Env["HOME"]; ok {
		t.Error("agent's HOME passed on to children")
	}

	t.Setenv(agentapi.EnvToken, "")
	if _, err := ConfigFromEnv(); err == nil {
		t.Error("empty token accepted")
	}
	t.Setenv(agentapi.EnvToken, "x")
	t.Setenv(agentapi.EnvNproc, "many")
	if _, err := ConfigFromEnv(); err == nil {
		t.Error("bad nproc accepted")
	}
}

func TestNewServerRequiresToken(t *testing.T) {
	if _, err := NewServer(Config{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("NewServer accepted an empty token")
	}
}

func TestBootFiles(t *testing.T) {
	dir := t.TempDir()
	old := [3]string{resolvConfPath, hostnamePath, hostsPath}
	resolvConfPath, hostnamePath, hostsPath = filepath.Join(dir, "resolv.conf"), filepath.Join(dir, "hostname"), filepath.Join(dir, "hosts")
	t.Cleanup(func() { resolvConfPath, hostnamePath, hostsPath = old[0], old[1], old[2] })

	start := time.Now()
	boot(Config{DNS: []string{"10.0.0.1", "1.1.1.1"}, Hostname: "sbx-1"}, slog.New(slog.DiscardHandler))
	t.Logf("boot took %v", time.Since(start))

	check := func(path, want string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	check(resolvConfPath, "nameserver 10.0.0.1\nnameserver 1.1.1.1\n")
	check(hostnamePath, "sbx-1\n")
	check(hostsPath, hostsFile("sbx-1"))
	if h := hostsFile("sbx-1"); !strings.Contains(h, "127.0.0.1\tlocalhost\n") || !strings.Contains(h, "127.0.1.1\tsbx-1\n") {
		t.Errorf("hosts = %q", h)
	}
}

func TestCountPids(t *testing.T) {
	proc := t.TempDir()
	for _, name := range []string{"1", "42", "31337", "self", "thread-self", "net", "sys", "1a"} {
		if err := os.Mkdir(filepath.Join(proc, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(proc, "meminfo"), "")
	if n, err := countPids(proc); err != nil || n != 3 {
		t.Errorf("countPids = %d, %v; want 3", n, err)
	}
	if _, err := countPids(filepath.Join(proc, "missing")); err == nil {
		t.Error("countPids of a missing directory succeeded")
	}
}
