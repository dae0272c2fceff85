package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// A server started with --cluster keeps its records in PostgreSQL, not in
// its data directory; they survive a kill; and a second server on the
// same database with the same node name is refused.
func TestClusterSingleServer(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	url := pgtest.Start(t).NewDatabase(t)
	s := startServer(t, "--cluster", url)
	sb := create(t, s, client.CreateRequest{Name: "on-postgres"})
	if res := sh(t, sb, "echo kept > /root/state"); res.ExitCode != 0 {
		t.Fatalf("exec: %+v", res)
	}
	if fileExists(filepath.Join(s.dataDir, "runtools.db")) {
		t.Error("a --cluster server wrote a SQLite database in its data directory")
	}

	second := exec.Command(binary, "server", "--cluster", url, "--data-dir", t.TempDir(), "--listen", freeAddr(t),
		"--proxy-listen", "", "--ssh-listen", "", "--build-templates=false", "--template-dir", templateDir)
	second.WaitDelay = 5 * time.Second
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another runtools server runs as node") {
		t.Errorf("a second server on the cluster database: %v\n%s", err, out)
	}

	s.kill()
	s.start()
	ctx := ctxT(t, time.Minute)
	got, err := s.client().Get(ctx, "on-postgres")
	if err != nil || got.State != "running" {
		t.Fatalf("after a kill: %+v, %v", got, err)
	}
	if res := sh(t, sb, "cat /root/state"); string(res.Stdout) != "kept\n" {
		t.Errorf("after a kill: %+v", res)
	}
}
