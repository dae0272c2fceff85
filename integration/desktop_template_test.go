package integration

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// desktopTemplates checks that a template saved from a desktop sandbox,
// or built FROM desktop, is a desktop template: its sandboxes run the
// desktop, with its memory and its VNC port, and their VNC comes up.
func desktopTemplates(t *testing.T, s *server, desk *client.Sandbox) {
	ctx := ctxT(t, 8*time.Minute)
	sh(t, desk, "echo mine > /root/desk-note")
	saved, err := s.client().SaveSandbox(ctx, desk.ID, "my-desktop")
	if err != nil {
		t.Fatal(err)
	}
	isDesktopTemplate(t, saved)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM desktop\nLABEL purpose=agents\n"+
		"# A build step runs none of the desktop's services.\nRUN sleep 3; test ! -e /tmp/.X1-lock && touch /etc/built-desktop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	built, lines, err := buildTemplate(t, s, "built-desktop", dir, client.BuildOptions{})
	if err != nil {
		t.Fatalf("build FROM desktop: %v\n%s", err, progressText(lines))
	}
	isDesktopTemplate(t, built)

	sb := create(t, s, client.CreateRequest{Template: "my-desktop"})
	if !sb.Desktop || sb.MemoryMB != 2048 || !slices.Contains(sb.Ports, 6901) {
		t.Fatalf("a sandbox of the saved desktop: desktop %v, memory %d, ports %v", sb.Desktop, sb.MemoryMB, sb.Ports)
	}
	if res := sh(t, sb, "cat /root/desk-note"); string(res.Stdout) != "mine\n" {
		t.Errorf("the saved desktop's file: %q", res.Stdout)
	}
	waitVNC(t, s, sb.ID, 3*time.Minute)
	if _, err := s.client().Screenshot(ctx, sb.ID); err != nil {
		t.Errorf("a screenshot of the saved desktop: %v", err)
	}
}

func isDesktopTemplate(t *testing.T, tpl *client.Template) {
	t.Helper()
	if c := tpl.Config; c == nil || !c.Desktop || c.MemoryMB != 2048 || !slices.Contains(c.Ports, 6901) {
		t.Errorf("template %s should be a desktop one: %+v", tpl.Name, tpl.Config)
	}
}
