package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// TestDashboard drives the web dashboard that runtools server serves at /
// in Debian's headless Chromium (e2e/dashboard.mjs): log in, create a
// sandbox, use its terminal, watch its metrics, set its egress policy in
// its network panel (a bad rule refused inline), pause and resume it. The
// screenshots are kept in artifacts/.
func TestDashboard(t *testing.T) {
	s := startServer(t)
	t.Cleanup(func() { // the sandboxes the browser made
		list, _ := s.client().List(context.Background())
		for _, sb := range list {
			_ = s.client().Destroy(context.Background(), sb.ID)
		}
	})
	runE2E(ctxT(t, 5*time.Minute), t, "the dashboard in Chromium", "dashboard.mjs", "http://"+s.addr+"/", s.key, artifacts(t))
}

// runE2E runs the browser script e2e/<script> with args, logs what it
// printed, and fails the test, saying what ran, if it failed.
func runE2E(ctx context.Context, t *testing.T, what, script string, args ...string) {
	t.Helper()
	if _, err := os.Stat("../e2e/node_modules/playwright-core"); err != nil {
		t.Fatal("playwright-core is not installed: run make setup")
	}
	out, err := exec.CommandContext(ctx, "node", append([]string{"../e2e/" + script}, args...)...).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestDashboardDesktop: a desktop sandbox's page in the dashboard draws its
// desktop (noVNC's canvas over the API's VNC WebSocket), again after a
// pause and a resume, and opens its noVNC page, connected, in a new tab
// (e2e/dashboard-desktop.mjs). The screenshots are kept in artifacts/.
func TestDashboardDesktop(t *testing.T) {
	s := startServer(t)
	sb := create(t, s, client.CreateRequest{Template: "desktop"})
	waitVNC(t, s, sb.ID, 2*time.Minute)
	shot := filepath.Join(artifacts(t), "dashboard-desktop")
	runE2E(ctxT(t, 3*time.Minute), t, "the desktop in the dashboard", "dashboard-desktop.mjs", "http://"+s.addr+"/", s.key, sb.ID, shot)
}

// TestDashboardTemplates drives the dashboard's template pages
// (e2e/dashboard-templates.mjs): build a template from a Dockerfile and a
// context file, a bad Dockerfile refused inline, the template's page, make
// it public, create a sandbox from it and save that sandbox as a template.
// Then the API confirms what the browser did.
func TestDashboardTemplates(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 8*time.Minute)
	runE2E(ctx, t, "the template pages in Chromium", "dashboard-templates.mjs", "http://"+s.addr+"/", s.key, artifacts(t))
	c := s.client()
	if tpl, err := c.Template(ctx, "dash-built"); err != nil || !tpl.Public || tpl.Version != 1 {
		t.Fatalf("dash-built: %+v, %v; want public version 1", tpl, err)
	}
	if tpl, err := c.Template(ctx, "dash-saved"); err != nil || tpl.Status != "ready" {
		t.Fatalf("dash-saved: %+v, %v; want ready", tpl, err)
	}
	for _, tpl := range []string{"dash-built", "dash-saved"} {
		sb := create(t, s, client.CreateRequest{Template: tpl})
		if res := sh(t, sb, "cat /note.txt"); string(res.Stdout) != "from the dashboard\n" {
			t.Errorf("a sandbox of %s: /note.txt is %q", tpl, res.Stdout)
		}
	}
}
