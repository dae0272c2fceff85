package integration

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
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
			t.Fatalf("desktop of %s not ready within %v (%+v, %v); in the sandbox:\n%s\nits start hooks:\n%s", id, within, sb, err, res.Stdout, hookOutput(t, s, id))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hookOutput is what a sandbox's start hooks printed, and how they ended.
func hookOutput(t *testing.T, s *server, id string) string {
	ctx := ctxT(t, time.Minute)
	procs, err := s.client().Processes(ctx, id)
	if err != nil {
		return err.Error()
	}
	var out strings.Builder
	for _, p := range procs {
		if !strings.Contains(strings.Join(p.Cmd, " "), "start.d") {
			continue
		}
		code, err := s.client().Output(ctx, id, p.PID, false, client.StreamOptions{Stdout: &out, Stderr: &out})
		fmt.Fprintf(&out, "%v: exit %d, %v\n", p.Cmd, code, err)
	}
	return out.String()
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
	if tpl, err := s.client().Template(ctx, "desktop"); err == nil {
		t.Logf("desktop template built %s: firefox-esr %s, chromium %s", tpl.BuiltAt.Format(time.DateOnly), tpl.Packages["firefox-esr"], tpl.Packages["chromium"])
	}

	t.Run("computer use", func(t *testing.T) {
		size, err := pc.ScreenSize(ctx)
		if err != nil || size.Width != 1280 || size.Height != 800 {
			t.Fatalf("screen size %+v, %v", size, err)
		}
		servePage(t, s, sb)
		for _, browser := range []string{"firefox", "chromium"} {
			launched := time.Now()
			if _, err := pc.Launch(ctx, browser, pageURL); err != nil {
				t.Fatalf("launching %s: %v", browser, err)
			}
			w := waitWindow(t, pc, browser, 90*time.Second)
			t.Logf("%s window %q after %v", browser, w.Title, time.Since(launched).Round(time.Millisecond))
			checkPageShown(t, pc, browser)
			// Each browser is checked on its own screen: Chromium's window
			// would hide Firefox's. Firefox stays open, minimized, for the
			// pause test.
			if browser == "firefox" {
				sh(t, sb, "DISPLAY=:1 xdotool search --name 'Mozilla Firefox' windowminimize")
			}
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

	t.Run("GS base", func(t *testing.T) {
		// Firefox's wasm2c sandboxes set the GS base with arch_prctl: two
		// processes doing so each keep their own through many switches.
		res := sh(t, sb, `cat >/tmp/gs.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <asm/prctl.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
	/* Each process's base is a page of its own at an address of its own. */
	unsigned long *page = mmap((void *)strtoul(argv[1], 0, 16), 4096, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), want = (unsigned long)page, got;
	if (page == MAP_FAILED) { perror("mmap"); return 2; }
	unsigned long marker = *page = want ^ 0x5a5a;
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, want)) { perror("ARCH_SET_GS"); return 2; }
	for (int i = 0; i < 20000; i++) {
		if (i % 4 == 0) sched_yield(); else getppid();
		if (syscall(SYS_arch_prctl, ARCH_GET_GS, &got) || got != want) { printf("lost: %lx\n", got); return 1; }
		__asm__ volatile("movq %%gs:0, %0" : "=r"(got)); /* a load through %gs, as wasm2c's */
		if (got != marker) { printf("read %lx through gs\n", got); return 1; }
	}
	puts("kept");
	return 0;
}
C
gcc -O2 -o /tmp/gs /tmp/gs.c && { /tmp/gs 111100000000 & /tmp/gs 222200000000; wait; }`)
		if string(res.Stdout) != "kept\nkept\n" {
			t.Errorf("GS bases in a desktop sandbox: %q %q", res.Stdout, res.Stderr)
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
		link, err := s.client().SignedLink(ctx, sb.ID, 6901, 600)
		if err != nil {
			t.Fatal(err)
		}
		runE2E(ctx, t, "noVNC in Chromium", "novnc.mjs", link.URL, filepath.Join(artifacts(t), "desktop-novnc.png"))
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
		// Firefox still draws the page after the resume.
		sh(t, sb, "DISPLAY=:1 wmctrl -c Chromium; DISPLAY=:1 wmctrl -a 'Mozilla Firefox'")
		checkPageShown(t, pc, "firefox-after-resume")
	})

	t.Run("templates made from it", func(t *testing.T) {
		desktopTemplates(t, s, sb)
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

// The page the browsers open: served inside the sandbox, with a title to
// find its window by and a colour to find it on the screen by.
const (
	pageTitle  = "runtools browser probe"
	pageURL    = "http://127.0.0.1:8000/"
	pageColour = 0xd81b60 // a pink nothing else on the desktop has
)

// servePage serves the probe page on the sandbox's port 8000.
func servePage(t *testing.T, s *server, sb *client.Sandbox) {
	t.Helper()
	html := fmt.Sprintf(`<!DOCTYPE html><html><head><title>%s</title></head>`+
		`<body style="margin:0;background:#%06x;height:100vh"></body></html>`, pageTitle, pageColour)
	sh(t, sb, "mkdir -p /srv/probe && cat >/srv/probe/index.html <<'HTML'\n"+html+"\nHTML")
	ctx := ctxT(t, time.Minute)
	if _, err := s.client().Start(ctx, sb.ID, client.ExecRequest{Cmd: []string{"python3", "-m", "http.server", "8000", "-b", "127.0.0.1", "-d", "/srv/probe"}}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if r := sh(t, sb, "curl -fsS "+pageURL); r.ExitCode == 0 && strings.Contains(string(r.Stdout), pageTitle) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the probe page is not served")
}

// waitWindow waits for browser's window on the probe page: its title holds
// the page's title and the browser's name.
func waitWindow(t *testing.T, pc *client.Computer, browser string, within time.Duration) client.Window {
	t.Helper()
	match := func(w client.Window) bool {
		return strings.Contains(w.Title, pageTitle) && strings.Contains(strings.ToLower(w.Title), browser)
	}
	ctx := ctxT(t, within+time.Minute)
	deadline := time.Now().Add(within)
	var ws []client.Window
	for time.Now().Before(deadline) {
		var err error
		if ws, err = pc.Windows(ctx); err == nil {
			if i := slices.IndexFunc(ws, match); i >= 0 {
				return ws[i]
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no %s window on %q within %v; windows: %+v", browser, pageTitle, within, ws)
	return client.Window{}
}

// checkPageShown takes a screenshot, keeps it in artifacts/, and checks
// the probe page's colour covers a good part of the screen.
func checkPageShown(t *testing.T, pc *client.Computer, name string) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	var share float64
	var shot []byte
	for range 40 { // the window shows before its first paint
		var err error
		if shot, err = pc.Screenshot(ctx); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("screenshot is no PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 800 {
			t.Fatalf("screenshot %v, want 1280x800", b)
		}
		if share = colourShare(img, pageColour); share > 0.2 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(artifacts(t), "desktop-"+name+".png"), shot, 0o644)
	if share <= 0.2 {
		t.Errorf("%s: the page's colour covers %.1f%% of the screen, want over 20%% (artifacts/desktop-%s.png)", name, 100*share, name)
	}
}

// colourShare samples an image and returns the share of pixels within a
// small distance of colour (0xRRGGBB).
func colourShare(img image.Image, colour uint32) float64 {
	want := [3]int{int(colour >> 16 & 0xff), int(colour >> 8 & 0xff), int(colour & 0xff)}
	var hit, all int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 5 {
		for x := b.Min.X; x < b.Max.X; x += 5 {
			r, g, bl, _ := img.At(x, y).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
			all++
			if abs(got[0]-want[0]) < 12 && abs(got[1]-want[1]) < 12 && abs(got[2]-want[2]) < 12 {
				hit++
			}
		}
	}
	return float64(hit) / float64(all)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
