package integration

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// artifacts is where tests keep screenshots: $RUNTOOLS_ARTIFACTS, else
// artifacts/ at the top of the repository.
func artifacts(t *testing.T) string {
	dir := os.Getenv("RUNTOOLS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// waitVNC polls a desktop sandbox until its desktop is up.
func waitVNC(t *testing.T, s *server, id string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		sb, err := s.client().Get(ctxT(t, time.Minute), id)
		if err == nil && sb.VNCReady {
			return
		}
		if time.Now().After(deadline) {
			res, _ := s.client().Exec(ctxT(t, time.Minute), id, client.ExecRequest{Cmd: []string{"sh", "-c", "ps ax; cat /var/log/x11vnc.log"}})
			t.Fatalf("desktop of %s not ready within %v (%+v, %v); in the sandbox:\n%s", id, within, sb, err, res.Stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// distinctColours samples an image and counts its colours.
func distinctColours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	return len(seen)
}

func TestDesktop(t *testing.T) {
	s := startServer(t)
	ctx := ctxT(t, 8*time.Minute)
	start := time.Now()
	sb := create(t, s, client.CreateRequest{Name: "desk", Template: "desktop-ubuntu"})
	if sb.Template != "desktop" || !sb.Desktop || sb.MemoryMB != 2048 || !slices.Contains(sb.Ports, 6901) {
		t.Fatalf("desktop sandbox: template %s, desktop %v, memory %d, ports %v", sb.Template, sb.Desktop, sb.MemoryMB, sb.Ports)
	}
	waitVNC(t, s, sb.ID, 90*time.Second)
	t.Logf("create to vncReady: %v", time.Since(start).Round(time.Millisecond))
	pc := sb.Computer()

	t.Run("computer use", func(t *testing.T) {
		size, err := pc.ScreenSize(ctx)
		if err != nil || size.Width != 1280 || size.Height != 800 {
			t.Fatalf("screen size %+v, %v", size, err)
		}
		launched := time.Now()
		res, err := pc.Launch(ctx, "firefox")
		if err != nil || res.Window == nil {
			t.Fatalf("launching firefox: %+v, %v", res, err)
		}
		t.Logf("firefox window %q after %v", res.Window.Title, time.Since(launched).Round(time.Millisecond))
		// xdotool search can trip over a window that closes while it looks
		// (BadWindow): ask again.
		var found *client.ExecResult
		for range 20 {
			if found = sh(t, sb, "DISPLAY=:1 xdotool search --onlyvisible --class firefox"); len(bytes.TrimSpace(found.Stdout)) > 0 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if len(bytes.TrimSpace(found.Stdout)) == 0 {
			t.Errorf("xdotool finds no Firefox window: %q %q", found.Stdout, found.Stderr)
		}
		time.Sleep(2 * time.Second) // let Firefox draw its first page
		shot, err := pc.Screenshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(artifacts(t), "desktop-firefox.png"), shot, 0o644)
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("screenshot is no PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 800 {
			t.Errorf("screenshot %v, want 1280x800", b)
		}
		if n := distinctColours(img); n < 16 {
			t.Errorf("screenshot looks blank: %d colours", n)
		}

		if err := pc.Move(ctx, 200, 150); err != nil {
			t.Fatal(err)
		}
		if p, err := pc.Cursor(ctx); err != nil || p.X != 200 || p.Y != 150 {
			t.Errorf("cursor after move: %+v, %v", p, err)
		}
		for _, step := range []func() error{
			func() error { return pc.Click(ctx, 640, 400) },
			func() error { return pc.Key(ctx, "ctrl+l") },
			func() error { return pc.Type(ctx, "about:blank") },
			func() error { return pc.Key(ctx, "Return") },
			func() error { return pc.Scroll(ctx, 3) },
		} {
			if err := step(); err != nil {
				t.Error(err)
			}
		}
		// Bad input is refused with a clear error.
		if _, err := s.client().Act(ctx, sb.ID, client.ComputerAction{Action: "key", Keys: []string{"ctrl+l; rm -rf /"}}); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("a key with shell in it: %v", err)
		}
		if _, err := s.client().Act(ctx, sb.ID, client.ComputerAction{Action: "dance"}); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("an unknown action: %v", err)
		}
	})

	t.Run("noVNC through the proxy", func(t *testing.T) {
		hdr := map[string]string{"X-Runtools-Access-Token": sb.AccessToken}
		resp, body := get(t, s.viaProxy(), s.devURL(sb, 6901)+"/vnc.html", hdr)
		if resp.StatusCode != 200 || !strings.Contains(body, "noVNC") {
			t.Fatalf("vnc.html: %d %.200q", resp.StatusCode, body)
		}
		conn := wsHandshake(t, s, s.devURL(sb, 6901)+"/websockify", "binary", hdr)
		defer conn.Close()
		frame := make([]byte, 14)
		if _, err := io.ReadFull(conn, frame); err != nil || !bytes.Contains(frame, []byte("RFB 003.")) {
			t.Fatalf("no RFB greeting over the websocket: %q, %v", frame, err)
		}
	})

	t.Run("browser", func(t *testing.T) {
		if _, err := os.Stat("../e2e/node_modules/playwright-core"); err != nil {
			t.Fatal("playwright-core is not installed: run make setup")
		}
		link, err := s.client().SignedLink(ctx, sb.ID, 6901, 600)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(artifacts(t), "desktop-novnc.png")
		cmd := exec.CommandContext(ctx, "node", "../e2e/novnc.mjs", link.URL, out)
		got, err := cmd.CombinedOutput()
		t.Logf("%s", got)
		if err != nil {
			t.Fatalf("noVNC in Chromium: %v", err)
		}
	})

	t.Run("pause keeps the desktop", func(t *testing.T) {
		before, err := pc.Windows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := sb.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sb.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		waitVNC(t, s, sb.ID, 30*time.Second)
		after, err := pc.Windows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) || !slices.ContainsFunc(after, func(w client.Window) bool { return strings.Contains(w.Title, "Firefox") }) {
			t.Errorf("windows before pause %v, after resume %v", before, after)
		}
	})

	t.Run("not a desktop", func(t *testing.T) {
		plain := create(t, s, client.CreateRequest{})
		if plain.Desktop || plain.VNCReady {
			t.Errorf("base sandbox: %+v", plain)
		}
		if _, err := s.client().Screenshot(ctx, plain.ID); !errors.Is(err, client.ErrConflict) {
			t.Errorf("screenshot of a base sandbox: %v, want a conflict", err)
		}
	})
}
