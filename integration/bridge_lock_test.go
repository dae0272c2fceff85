package integration

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestSecondServerOnTheBridge: a second server started with the bridge of
// a running one refuses to start, naming the first one's data directory,
// and the first one's sandbox lives on.
func TestSecondServerOnTheBridge(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{})
	addrs := freeAddrs(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "server", "--data-dir", t.TempDir(), "--listen", addrs[0], "--template-dir", templateDir,
		"--bridge", s.bridge, "--subnet", s.subnet, "--build-templates=false", "--proxy-listen", addrs[1], "--ssh-listen", addrs[2])
	cmd.Env = append(cmd.Environ(), "RUNTOOLS_API_KEY="+s.key)
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("the second server did not refuse (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "another runtools server runs on bridge "+s.bridge) || !strings.Contains(string(out), s.dataDir) {
		t.Errorf("the refusal does not name the bridge and the first server's data directory %s:\n%s", s.dataDir, out)
	}
	if res := sh(t, sb, "echo alive"); strings.TrimSpace(string(res.Stdout)) != "alive" {
		t.Errorf("the first server's sandbox: %+v", res)
	}
	// Killed, the first server leaves no lock behind.
	s.kill()
	s.start()
	if res := sh(t, sb, "echo back"); strings.TrimSpace(string(res.Stdout)) != "back" {
		t.Errorf("after the restart: %+v", res)
	}
}
