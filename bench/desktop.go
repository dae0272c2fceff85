package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
)

// desktopSection is what the desktop measurements found, on runtools
// only: create until the desktop's VNC client answers, screenshots, and
// pause and resume with Firefox open.
type desktopSection struct {
	runs, shotRuns, pauseRuns int
	vcpus, memoryMB           int // of the desktop sandboxes, as the API reported them
	create                    phaseSet
	screen                    client.ScreenSize
	shots                     samples
	shotBytes                 []int64
	launch                    time.Duration // `Launch("firefox")` until it returned with the window
	window                    string        // the title of the window Launch reported
	cycle                     phaseSet      // pause, resume, resume to usable, and their parts
	images                    []int64       // checkpoint image sizes the daemon logged
	firefoxSeen               int           // resumes after which a Firefox window was listed
	firefoxMissing            string        // the windows listed after the first resume without one
	skipped                   string        // why the section did not run, if it did not
	shotSkipped               string        // why the screenshots did not run, if they did not
	pauseSkipped              string        // why Firefox and the pause runs did not run, if they did not
	took                      time.Duration
}

// The desktop template and what the section measures, as the report names
// it.
const (
	desktopTemplate = "desktop"
	desktopPort     = 6901 // where the desktop serves noVNC (sandbox.DesktopPort)
	phDeskVNC       = "create to vncReady (`client.Create`, then `client.Get` every 50 ms until `vnc_ready`)"
	phDeskCreate    = "create: `client.Create` returns (sandbox running, agent answering)"
	phDeskWait      = "create: from Create's return until `vnc_ready` is seen"
	phDeskProbe     = "create: (the daemon's own probe, from the sandbox running until noVNC answers: \"desktop ready after=\" in its log)"
	phDeskUsable    = "resume to usable: `client.Resume` + the first screenshot that succeeds"
	phDeskShotAfter = "resume: the first screenshot after Resume returned (retried every 50 ms until it succeeds)"
)

// Timings of the desktop section that are not flags.
const (
	desktopPoll    = 50 * time.Millisecond
	desktopReadyBy = 3 * time.Minute  // create to vncReady, at most
	firefoxRest    = 3 * time.Second  // after Firefox's window shows, before the first pause
	usableBy       = 30 * time.Second // after Resume, until a screenshot must have succeeded
)

// The reference figures for a raw gVisor checkpoint and restore of
// a desktop sandbox with Firefox open, measured by an earlier session by
// hand, not by this bench.
const (
	refRawCheckpoint = 740 * time.Millisecond
	refRawRestore    = 860 * time.Millisecond
)

// measureDesktopSection measures desktop sandboxes into rep. If it fails,
// it is reported as not measured, with the reason, so that the rest of the
// report survives; an interruption stops the bench.
func measureDesktopSection(ctx context.Context, undo *undoStack, rep *report, srv *server) error {
	var err error
	if rep.desktop, err = measureDesktop(ctx, undo, srv, rep.cfg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("desktop sandboxes: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\nbench: the desktop section failed: %v\n", err)
		rep.desktop.skipped = "failed: " + err.Error()
	}
	return nil
}

// measureDesktop creates desktop sandboxes one after another, timing each
// from Create until the API says its VNC client is ready, and keeps the
// last for the screenshots and for pause and resume with Firefox open.
// Every desktop sandbox is removed, at once on failure and by undo on
// Ctrl-C.
func measureDesktop(ctx context.Context, undo *undoStack, srv *server, cfg config) (sec desktopSection, err error) {
	sec = desktopSection{runs: cfg.desktopRuns, shotRuns: cfg.desktopShotRuns, pauseRuns: cfg.desktopPauseRuns}
	if cfg.desktopRuns == 0 {
		sec.skipped = "left out with -desktop-runs=0"
		return sec, nil
	}
	t := time.Now()
	fmt.Fprintln(os.Stderr, "desktop sandboxes")
	var remove func(context.Context) error
	defer func() {
		if err != nil && ctx.Err() == nil && remove != nil {
			err = errors.Join(err, remove(ctx))
		}
	}()
	var sb *client.Sandbox
	for i := range cfg.desktopRuns {
		if remove != nil {
			if err := remove(ctx); err != nil {
				return sec, err
			}
		}
		if err := settle(ctx); err != nil {
			return sec, err
		}
		var ph []phase
		sb, remove, ph, err = createDesktop(ctx, undo, srv)
		if err != nil {
			return sec, err
		}
		sec.create.add(ph)
		progress("desktop create to vncReady", i, 0, cfg.desktopRuns)
	}
	sec.vcpus, sec.memoryMB = sb.VCPUs, sb.MemoryMB
	if sec.screen, err = sb.Computer().ScreenSize(ctx); err != nil {
		return sec, fmt.Errorf("reading the screen size of %s: %w", sb.ID, err)
	}
	if cfg.desktopShotRuns == 0 {
		sec.shotSkipped = "left out with -desktop-shot-runs=0"
	} else if err := measureScreenshots(ctx, sb, &sec); err != nil {
		if ctx.Err() != nil {
			return sec, err
		}
		fmt.Fprintf(os.Stderr, "\nbench: the desktop screenshots failed: %v\n", err)
		sec.shotSkipped = "failed: " + err.Error()
	}
	if cfg.desktopPauseRuns == 0 {
		sec.pauseSkipped = "left out with -desktop-pause-runs=0"
	} else if err := measureDesktopPause(ctx, srv, sb, &sec); err != nil {
		if ctx.Err() != nil {
			return sec, err
		}
		fmt.Fprintf(os.Stderr, "\nbench: the desktop pause runs failed: %v\n", err)
		sec.pauseSkipped = "failed: " + err.Error()
	}
	sec.took = time.Since(t)
	return sec, remove(ctx)
}

// createDesktop creates a desktop sandbox that never pauses by itself and
// polls it until the API says its VNC client is ready, timing both from
// before Create. Its removal is registered with undo and returned, also
// on failure once the sandbox exists; it is safe to call twice.
func createDesktop(ctx context.Context, undo *undoStack, srv *server) (*client.Sandbox, func(context.Context) error, []phase, error) {
	zero := 0
	t0 := time.Now()
	sb, err := srv.c.Create(ctx, client.CreateRequest{Template: desktopTemplate, IdleTimeout: &zero})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating a %s sandbox: %w", desktopTemplate, err)
	}
	t1 := time.Now()
	remove := removeOnce(func(ctx context.Context) error { return srv.destroy(ctx, sb) })
	undo.push("remove the desktop sandbox "+sb.ID, remove)
	if !sb.Desktop {
		return sb, remove, nil, fmt.Errorf("sandbox %s of template %s is not a desktop", sb.ID, desktopTemplate)
	}
	for {
		got, err := srv.c.Get(ctx, sb.ID)
		if err != nil {
			return sb, remove, nil, fmt.Errorf("waiting for the desktop of %s: %w", sb.ID, err)
		}
		if got.VNCReady {
			break
		}
		if got.State != client.StateRunning {
			return sb, remove, nil, fmt.Errorf("desktop sandbox %s is %s before its VNC client was ready", sb.ID, got.State)
		}
		if time.Since(t0) > desktopReadyBy {
			return sb, remove, nil, fmt.Errorf("the desktop of %s was not ready %v after Create (console: %s)", sb.ID, desktopReadyBy,
				lastLines(readFile(filepath.Join(srv.sandboxDir(sb.ID), "console.log")), 10))
		}
		if err := sleep(ctx, desktopPoll); err != nil {
			return sb, remove, nil, err
		}
	}
	t2 := time.Now()
	ph := []phase{{phDeskVNC, t2.Sub(t0)}, {phDeskCreate, t1.Sub(t0)}, {phDeskWait, t2.Sub(t1)}}
	if l, ok := srv.lastLogLine("desktop ready", sb.ID); ok {
		if d, ok := durationAttr(l, afterAttr); ok {
			ph = append(ph, phase{phDeskProbe, d})
		}
	}
	return sb, remove, ph, nil
}

// measureScreenshots times Computer.Screenshot, after one uncounted call,
// and checks that each answer is a PNG.
func measureScreenshots(ctx context.Context, sb *client.Sandbox, sec *desktopSection) error {
	comp := sb.Computer()
	for i := -1; i < sec.shotRuns; i++ {
		if err := settle(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		png, err := comp.Screenshot(ctx)
		d := time.Since(t0)
		if err != nil {
			return fmt.Errorf("screenshot of %s: %w", sb.ID, err)
		}
		if !isPNG(png) {
			return fmt.Errorf("screenshot of %s: not a PNG (%d bytes)", sb.ID, len(png))
		}
		if i >= 0 {
			sec.shots = append(sec.shots, d)
			sec.shotBytes = append(sec.shotBytes, int64(len(png)))
		}
		progress("desktop screenshot", i, 1, sec.shotRuns)
	}
	return nil
}

// measureDesktopPause launches Firefox (timed), lets it rest, then pauses
// and resumes the sandbox pauseRuns times, each time checking that
// Firefox's window is still there.
func measureDesktopPause(ctx context.Context, srv *server, sb *client.Sandbox, sec *desktopSection) error {
	if err := settle(ctx); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "desktop: launching Firefox")
	t0 := time.Now()
	res, err := sb.Computer().Launch(ctx, "firefox")
	sec.launch = time.Since(t0)
	if err != nil {
		return fmt.Errorf("launching Firefox in %s: %w", sb.ID, err)
	}
	if res.Window != nil {
		sec.window = res.Window.Title
	}
	if err := sleep(ctx, firefoxRest); err != nil {
		return err
	}
	p := &desktopPauser{s: srv, sb: sb, sec: sec}
	out, err := measureCycles(ctx, "desktop pause/resume with Firefox", []cycler{p.cycler()}, sec.pauseRuns, 0)
	if err != nil {
		return err
	}
	if out[0].dropped != "" {
		return errors.New(out[0].dropped)
	}
	sec.cycle = out[0].phases
	return nil
}

// desktopPauser pauses and resumes a desktop sandbox through the Go SDK.
type desktopPauser struct {
	s   *server
	sb  *client.Sandbox
	sec *desktopSection
}

func (p *desktopPauser) cycler() cycler {
	return cycler{name: nameRuntools, ops: []op{p.pause, p.resume}}
}

// pause is timed like the pause section's runtools pause, with the same
// parts told from the image's files and the daemon's log.
func (p *desktopPauser) pause(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	err := p.sb.Pause(ctx)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("pausing %s: %w", p.sb.ID, err)
	}
	if p.sb.State != client.StatePaused {
		return nil, fmt.Errorf("pausing %s: state %s after Pause", p.sb.ID, p.sb.State)
	}
	ph := append([]phase{{phPause, t1.Sub(t0)}}, imagePhases(filepath.Join(p.s.sandboxDir(p.sb.ID), "pause"), t0, t1, pauseImagePhases)...)
	if l, ok := p.s.lastLogged("sandbox paused", p.sb.ID); ok {
		ph = append(ph, phase{phPauseTook, l.took})
		p.sec.images = append(p.sec.images, l.bytes)
	}
	return ph, nil
}

// resume times Resume, then until a screenshot succeeds; then, untimed,
// it looks for Firefox's window.
func (p *desktopPauser) resume(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	err := p.sb.Resume(ctx)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("resuming %s: %w", p.sb.ID, err)
	}
	if p.sb.State != client.StateRunning {
		return nil, fmt.Errorf("resuming %s: state %s after Resume", p.sb.ID, p.sb.State)
	}
	comp := p.sb.Computer()
	for {
		png, err := comp.Screenshot(ctx)
		if err == nil && isPNG(png) {
			break
		}
		if time.Since(t1) > usableBy {
			return nil, fmt.Errorf("no screenshot of %s within %v of its Resume: %v", p.sb.ID, usableBy, err)
		}
		if err := sleep(ctx, desktopPoll); err != nil {
			return nil, err
		}
	}
	t2 := time.Now()
	ph := append([]phase{{phResume, t1.Sub(t0)}, {phDeskUsable, t2.Sub(t0)}, {phDeskShotAfter, t2.Sub(t1)}},
		p.s.restorePhases("resume", p.sb.ID, t0, t1)...)
	if l, ok := p.s.lastLogged("sandbox resumed", p.sb.ID); ok {
		ph = append(ph, phase{phResumeTook, l.took})
	}
	ws, err := comp.Windows(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the windows of %s after its Resume: %w", p.sb.ID, err)
	}
	if hasFirefox(ws) {
		p.sec.firefoxSeen++
	} else if p.sec.firefoxMissing == "" {
		p.sec.firefoxMissing = windowTitles(ws)
	}
	return ph, nil
}

func hasFirefox(ws []client.Window) bool {
	for _, w := range ws {
		if strings.Contains(w.Title, "Firefox") {
			return true
		}
	}
	return false
}

// windowTitles lists the windows' titles, quoted, or says there are none.
func windowTitles(ws []client.Window) string {
	if len(ws) == 0 {
		return "no windows"
	}
	var ts []string
	for _, w := range ws {
		ts = append(ts, fmt.Sprintf("%q", w.Title))
	}
	return strings.Join(ts, ", ")
}

// afterAttr is the duration of the daemon's "desktop ready" log line.
var afterAttr = regexp.MustCompile(`\bafter=(\S+)`)

func isPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }

// readFile returns a file's content, or what went wrong reading it.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
