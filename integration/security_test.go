package integration

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// gateway is the host's address on the server's bridge.
func (s *server) gateway() string {
	p := netip.MustParsePrefix(s.subnet)
	return p.Addr().Next().String()
}

// hostAddr is the host's primary (non-loopback) address.
func hostAddr(t *testing.T) string {
	out, err := exec.Command("ip", "-4", "route", "get", "10.255.255.53").Output()
	if err != nil {
		t.Fatalf("ip route get: %v", err)
	}
	m := regexp.MustCompile(`src (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no src in %q", out)
	}
	return m[1]
}

// mirrorURL is the first HTTP URI of the host's own apt sources: something
// the host can reach, named by the host's configuration, not by us.
func mirrorURL(t *testing.T) string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	files = append(files, "/etc/apt/sources.list")
	re := regexp.MustCompile(`(?m)^(?:URIs:|deb)\s+(http://\S+)`)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if m := re.FindSubmatch(data); m != nil {
			return string(m[1])
		}
	}
	t.Skip("no http apt source on this host to test egress with")
	return ""
}

func TestNetworkIsolation(t *testing.T) {
	s := startServer(t)
	a := create(t, s, client.CreateRequest{Name: "a"})
	// b belongs to another team: a team's own sandboxes reach each other
	// (TestTeamNetwork).
	b := createWith(t, teamClient(t, s, "others"), client.CreateRequest{Name: "b"})
	ctx := ctxT(t, 2*time.Minute)
	if _, err := b.Exec(ctx, client.ExecRequest{Cmd: []string{"sh", "-c", "cd /tmp && nohup python3 -m http.server 8000 >/dev/null 2>&1 &"}}); err != nil {
		t.Fatal(err)
	}
	// A service of the host's, on every address.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 200 OK\r\n\r\nhost-secret"))
			c.Close()
		}
	}()
	hostPort := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	// B's server answers B itself, so a failure from A is the fence.
	if res := sh(t, b, "sleep 1; curl -s -m 3 http://127.0.0.1:8000/ >/dev/null && echo up"); !strings.Contains(string(res.Stdout), "up") {
		t.Fatalf("b's own server is not up: %s", res.Stderr)
	}
	_, apiPort, _ := net.SplitHostPort(s.addr)
	for name, url := range map[string]string{
		"other team's sandbox":        "http://" + b.IP + ":8000/",
		"other team's sandbox agent":  "http://" + b.IP + ":49983/health",
		"host service via gateway":    "http://" + s.gateway() + ":" + hostPort + "/",
		"host service via primary IP": "http://" + hostAddr(t) + ":" + hostPort + "/",
		"daemon API via gateway":      "http://" + s.gateway() + ":" + apiPort + "/v1/me",
		"metadata address":            "http://169.254.169.254/latest/meta-data/",
		"link-local":                  "http://169.254.1.1/",
	} {
		res := sh(t, a, "curl -s -m 2 -o /dev/null -w '%{http_code}' "+url+"; echo \" rc=$?\"")
		if !strings.Contains(string(res.Stdout), "rc=") || strings.Contains(string(res.Stdout), "rc=0") {
			t.Errorf("%s (%s) was reachable from a sandbox: %s", name, url, res.Stdout)
		}
	}
	// But the world the host reaches is reachable, by name.
	u := mirrorURL(t)
	res := sh(t, a, "curl -s -m 10 -o /dev/null -w '%{http_code}' "+u)
	if code := strings.TrimSpace(string(res.Stdout)); res.ExitCode != 0 || code == "000" {
		t.Errorf("egress to %s failed: exit %d code %q %s", u, res.ExitCode, code, res.Stderr)
	}
}

func TestDiskCap(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	res := sh(t, sb, "df -k / | tail -1")
	// A durable disk is an ext4 image sized for its metadata: within 1%.
	if f := strings.Fields(string(res.Stdout)); len(f) < 2 || !within(f[1], 2097152, 0.01) {
		t.Errorf("root filesystem size: %q, want 2097152 KB", res.Stdout)
	}
	var before, after unixStatfs
	statfs(t, s.dataDir, &before)
	start := time.Now()
	res = sh(t, sb, "dd if=/dev/urandom of=/root/fill bs=1M count=2300 2>&1; echo rc=$?")
	t.Logf("filling the disk took %v", time.Since(start))
	if !strings.Contains(string(res.Stdout), "No space left on device") {
		t.Errorf("filling the disk did not end in ENOSPC: %s", res.Stdout)
	}
	waitLimit(t, s, sb.ID, "limit: disk")
	statfs(t, s.dataDir, &after)
	if used := before.free() - after.free(); used > 2300<<20 {
		t.Errorf("host lost %d MB of free space to a 2 GB sandbox disk", used>>20)
	}
	// The sandbox lives on, and freeing space works.
	if res := sh(t, sb, "rm /root/fill && echo freed > /root/after && cat /root/after"); string(res.Stdout) != "freed\n" {
		t.Errorf("after the fill: %q %q", res.Stdout, res.Stderr)
	}
	// Writes never touch the template.
	sh(t, sb, "echo x > /usr/bin/runtools-test-marker")
	if matches, _ := filepath.Glob(filepath.Join(templateDir, "base-*", "rootfs", "usr/bin/runtools-test-marker")); len(matches) > 0 {
		t.Errorf("a sandbox write reached the template: %v", matches)
	}
}

func TestFiles(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	ctx := ctxT(t, 2*time.Minute)
	f := sb.Files()
	data := make([]byte, 10<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if _, err := f.Write(ctx, "/root/dir/big.bin", strings.NewReader(string(data)), client.WriteOptions{MkDirs: true, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	got, err := f.Read(ctx, "/root/dir/big.bin")
	if err != nil || string(got) != string(data) {
		t.Fatalf("round trip: %d bytes, %v", len(got), err)
	}
	fi, err := f.Stat(ctx, "/root/dir/big.bin")
	if err != nil || fi.Size != int64(len(data)) || fi.Mode&0o777 != 0o600 {
		t.Errorf("stat: %+v %v", fi, err)
	}
	entries, err := f.List(ctx, "/root/dir")
	if err != nil || len(entries) != 1 || entries[0].Name != "big.bin" {
		t.Errorf("list: %+v %v", entries, err)
	}
	if err := f.Remove(ctx, "/root/dir", false); !errors.Is(err, client.ErrConflict) {
		t.Errorf("remove non-empty dir: %v", err)
	}
	if err := f.Remove(ctx, "/root/dir", true); err != nil {
		t.Errorf("remove -r: %v", err)
	}
	if _, err := f.Read(ctx, "/root/dir/big.bin"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("read removed: %v", err)
	}

	// A symlink planted inside the sandbox resolves inside the sandbox.
	host := filepath.Join(t.TempDir(), "host-secret")
	os.WriteFile(host, []byte("host-secret"), 0o600)
	target := filepath.Join(t.TempDir(), "host-target")
	sh(t, sb, fmt.Sprintf("ln -s %s /root/evil-read; ln -s %s /root/evil-write; ln -s / /root/root-link", host, target))
	if got, err := f.Read(ctx, "/root/evil-read"); err == nil || strings.Contains(string(got), "host-secret") {
		t.Errorf("reading through a planted symlink: %q %v", got, err)
	}
	f.Write(ctx, "/root/evil-write", strings.NewReader("pwned"), client.WriteOptions{MkDirs: true})
	if fileExists(target) {
		t.Errorf("a write through a planted symlink reached the host at %s", target)
	}
	hostShadow, _ := os.ReadFile("/etc/hostname")
	for _, p := range []string{"/root/root-link/etc/hostname", "/../../../etc/hostname"} {
		got, err := f.Read(ctx, p)
		if err != nil {
			t.Errorf("read %s: %v", p, err)
			continue
		}
		if string(got) == string(hostShadow) && !strings.Contains(string(got), "sandbox-") {
			t.Errorf("read %s returned the host's file", p)
		}
	}

	// cp of a directory both ways through the CLI.
	local := t.TempDir()
	os.MkdirAll(filepath.Join(local, "app", "src"), 0o755)
	os.WriteFile(filepath.Join(local, "app", "src", "main.js"), []byte("console.log(1)\n"), 0o644)
	if _, e, code := s.cli(t, "", "sandbox", "cp", filepath.Join(local, "app"), sb.ID+":/root/"); code != 0 {
		t.Fatalf("cp up: %s", e)
	}
	if res := sh(t, sb, "node /root/app/src/main.js"); string(res.Stdout) != "1\n" {
		t.Errorf("uploaded app: %q %q", res.Stdout, res.Stderr)
	}
	back := t.TempDir()
	if _, e, code := s.cli(t, "", "sandbox", "cp", sb.ID+":/root/app", back); code != 0 {
		t.Fatalf("cp down: %s", e)
	}
	if got, _ := os.ReadFile(filepath.Join(back, "app", "src", "main.js")); string(got) != "console.log(1)\n" {
		t.Errorf("downloaded app: %q", got)
	}
}

func TestTeamIsolation(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, time.Minute)
	admin := s.client()
	mine := create(t, s, client.CreateRequest{Name: "mine"})
	if _, err := admin.CreateTeam(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateKey(ctx, client.CreateKeyRequest{Name: "k", Team: "other"})
	if err != nil {
		t.Fatal(err)
	}
	other := s.clientWithKey(key.Secret)
	list, err := other.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("other team lists %d sandboxes (%v)", len(list), err)
	}
	for _, ref := range []string{mine.ID, "mine"} {
		checks := map[string]error{}
		_, checks["get"] = other.Get(ctx, ref)
		_, checks["exec"] = other.Exec(ctx, ref, client.ExecRequest{Cmd: []string{"true"}})
		_, checks["start"] = other.Start(ctx, ref, client.ExecRequest{Cmd: []string{"true"}})
		_, checks["processes"] = other.Processes(ctx, ref)
		_, checks["read"] = other.Files(ref).Read(ctx, "/etc/hostname")
		_, checks["write"] = other.Files(ref).Write(ctx, "/root/x", strings.NewReader("x"), client.WriteOptions{})
		_, checks["list"] = other.Files(ref).List(ctx, "/")
		checks["destroy"] = other.Destroy(ctx, ref)
		for op, err := range checks {
			if !errors.Is(err, client.ErrNotFound) {
				t.Errorf("other team %s %s: %v, want not found", op, ref, err)
			}
		}
	}
	// Names are per team: the other team may use the same name.
	sb, err := other.Create(ctx, client.CreateRequest{Name: "mine"})
	if err != nil {
		t.Fatalf("same name in another team: %v", err)
	}
	other.Destroy(ctx, sb.ID)
	// Revoked keys stop working at once.
	if err := admin.DeleteKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.List(ctx); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("revoked key: %v", err)
	}
	if _, err := s.clientWithKey("rt_wrong").List(ctx); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("wrong key: %v", err)
	}
	if got, err := mine.Exec(ctx, client.ExecRequest{Cmd: []string{"true"}}); err != nil || got.ExitCode != 0 {
		t.Errorf("owner's sandbox hurt: %v", err)
	}

}

// within reports whether the number text is within share of want.
func within(text string, want, share float64) bool {
	n, err := strconv.ParseFloat(text, 64)
	return err == nil && n >= want*(1-share) && n <= want*(1+share)
}
