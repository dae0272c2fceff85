// Package integration drives the real runtools binary, as root, against
// real gVisor sandboxes: the server is started as a separate process so
// tests can kill it with SIGKILL and start it again.
package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/hostfs"
)

var (
	binary      string // the runtools binary under test
	templateDir string
	skipReason  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	must := os.Getenv("RUNTOOLS_INTEGRATION") == "1"
	switch {
	case os.Geteuid() != 0:
		skipReason = "integration tests need root"
	case !fileExists("/usr/local/lib/runtools/runsc"):
		skipReason = "runsc is not installed: run `make setup`"
	}
	if skipReason != "" {
		if must {
			fmt.Fprintln(os.Stderr, "integration:", skipReason)
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "runtools-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "runtools")
	build := exec.Command("go", "build", "-o", binary, "../cmd/runtools")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building runtools: %v\n%s", err, out)
		return 1
	}
	templateDir = os.Getenv("RUNTOOLS_TEMPLATE_DIR")
	if templateDir == "" {
		templateDir = "/var/cache/runtools/templates"
	}
	return m.Run()
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// server is one runtools server process under test.
type server struct {
	t       *testing.T
	dataDir string
	addr    string
	bridge  string
	subnet  string
	key     string
	proxy   string // the dev-server proxy's address, when started with one
	ssh     string // the SSH gateway's address
	extra   []string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	mu      sync.Mutex
}

var serverSeq int

// claimNetworkSlot picks one of 50 bridge and subnet slots for a test
// server, holding a lock file on it until the test ends, so test
// processes running at the same time (two `go test` runs) never share a
// bridge.
func claimNetworkSlot(t *testing.T) int {
	t.Helper()
	serverSeq++
	for i := range 50 {
		n := (os.Getpid() + serverSeq + i) % 50
		f, err := os.OpenFile(fmt.Sprintf("/run/lock/runtools-it-%d.lock", n), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		// A subnet some other interface routes (a server started by hand)
		// is taken too.
		if out, _ := exec.Command("ip", "-o", "route", "show", fmt.Sprintf("10.%d.0.0/16", 200+n)).Output(); len(out) > 0 &&
			!strings.Contains(string(out), fmt.Sprintf("dev rtit%d ", n)) {
			f.Close()
			continue
		}
		// A server left by a killed earlier run holds the slot's DNS
		// address: skip it.
		if l, err := net.ListenPacket("udp4", fmt.Sprintf("10.%d.0.1:53", 200+n)); errors.Is(err, syscall.EADDRINUSE) {
			f.Close()
			continue
		} else if err == nil {
			l.Close()
		}
		t.Cleanup(func() { f.Close() }) // after the server's own cleanup, which ran later-registered first
		return n
	}
	t.Fatal("all 50 test network slots are taken")
	return 0
}

// startServer starts a server with a fresh data directory, its own bridge
// and subnet, and stops it (destroying its sandboxes) when the test ends.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServerWith(t, nil, extra...)
}

// startServerWith is startServer with a hook that prepares the data
// directory before the server first starts.
func startServerWith(t *testing.T, prepare func(dataDir string), extra ...string) *server {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	n := claimNetworkSlot(t)
	s := &server{
		t:       t,
		dataDir: t.TempDir(),
		bridge:  fmt.Sprintf("rtit%d", n),
		subnet:  fmt.Sprintf("10.%d.0.0/16", 200+n),
		key:     "it-admin-key-0123456789abcdef",
		extra:   extra,
	}
	if prepare != nil {
		prepare(s.dataDir)
	}
	s.start()
	t.Cleanup(s.shutdown)
	return s
}

func freeAddr(t *testing.T) string {
	return freeAddrs(t, 1)[0]
}

// freeAddrs returns n distinct free loopback addresses. Their listeners
// are held until all are chosen: the kernel may hand a port it just freed
// out again at once.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out[i] = ln.Addr().String()
	}
	return out
}

// pickAddrs chooses, at once, the addresses of the API, the dev-server
// proxy and the SSH gateway that are not chosen yet. They stay the same
// across restarts.
func (s *server) pickAddrs() {
	addrs := freeAddrs(s.t, 3)
	for i, a := range []*string{&s.addr, &s.proxy, &s.ssh} {
		if *a == "" {
			*a = addrs[i]
		}
	}
}

// proxyAddr is where the dev-server proxy listens: the address the test
// chose, or a fresh free one.
func (s *server) proxyAddr() string {
	if s.proxy == "" {
		s.pickAddrs()
	}
	return s.proxy
}

// sshAddr is where the SSH gateway listens, chosen once.
func (s *server) sshAddr() string {
	if s.ssh == "" {
		s.pickAddrs()
	}
	return s.ssh
}

func (s *server) start() {
	t := s.t
	t.Helper()
	if s.addr == "" || s.proxy == "" || s.ssh == "" {
		s.pickAddrs()
	}
	args := append([]string{"server", "--data-dir", s.dataDir, "--listen", s.addr, "--template-dir", templateDir,
		"--bridge", s.bridge, "--subnet", s.subnet, "--build-templates=false", "--proxy-listen", s.proxyAddr(),
		"--ssh-listen", s.sshAddr()}, s.extra...)
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(os.Environ(), "RUNTOOLS_API_KEY="+s.key)
	s.cmd.Stdout, s.cmd.Stderr = syncWriter{s}, syncWriter{s}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.WaitDelay = 5 * time.Second // a child holding its output open must not hang Wait
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	c := s.client()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Me(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || s.cmd.ProcessState != nil {
			t.Fatalf("server did not come up: %v\n%s", err, s.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncWriter struct{ s *server }

func (w syncWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.log.Write(p)
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// kill SIGKILLs the server process (sandboxes keep running).
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// stop ends the server gracefully.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.t.Errorf("the server did not stop within 15 s of SIGTERM; its goroutines follow")
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(2 * time.Second)
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-done // one Wait only: a second one would race the first
		s.t.Logf("server log:\n%s", s.logs())
	}
}

// shutdown destroys every sandbox of the server, stops it, and checks
// nothing was left behind.
func (s *server) shutdown() {
	if s.cmd.ProcessState == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if list, err := s.client().List(ctx); err == nil {
			for _, sb := range list {
				_ = s.client().Destroy(ctx, sb.ID)
			}
		}
		cancel()
		checkFirewall(s.t, s)
		s.stop()
	}
	// Whatever is still there is a leak; remove it so the machine stays clean.
	if ids := runscIDs(s); len(ids) > 0 {
		s.t.Errorf("runsc containers left after shutdown: %v", ids)
		for _, id := range ids {
			exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "delete", "--force", id).Run()
		}
	}
	if ns := netnsList(s); len(ns) > 0 {
		s.t.Errorf("network namespaces left after shutdown: %v", ns)
		for _, n := range ns {
			exec.Command("ip", "netns", "del", n).Run()
		}
	}
	// The shared mounts of custom templates outlive a server on purpose
	// (its sandboxes keep using them); a test's data directory goes.
	if err := hostfs.UnmountUnder(s.dataDir); err != nil {
		s.t.Errorf("unmounting the custom templates: %v", err)
	}
	exec.Command("nft", "delete", "table", "inet", "runtools_"+s.bridge).Run()
	exec.Command("nft", "delete", "table", "ip", "runtools_"+s.bridge+"_nat").Run()
	exec.Command("nft", "delete", "table", "bridge", "runtools_"+s.bridge+"_ports").Run()
	exec.Command("ip", "link", "del", s.bridge).Run()
	if s.t.Failed() {
		s.t.Logf("server log:\n%s", s.logs())
	}
}

func (s *server) client() *client.Client { return s.clientWithKey(s.key) }

func (s *server) clientWithKey(key string) *client.Client {
	c, err := client.New("http://"+s.addr, key)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// runscIDs lists the server's runsc containers.
func runscIDs(s *server) []string {
	out, _ := exec.Command("/usr/local/lib/runtools/runsc", "--root="+filepath.Join(s.dataDir, "runsc"), "list", "--quiet").Output()
	return strings.Fields(string(out))
}

// netnsList lists the server's network namespaces.
func netnsList(s *server) []string {
	entries, _ := os.ReadDir("/var/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), s.bridge+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}
