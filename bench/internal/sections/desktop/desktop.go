// Package desktop is the desktop sandboxes section, on runtools only:
// create until the desktop's VNC client answers, screenshots, and pause
// and resume with Firefox open.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Runs      int // create-to-vncReady runs; 0 leaves the section out
	ShotRuns  int // screenshot runs; 0 leaves them out
	PauseRuns int // pause/resume runs with Firefox open; 0 leaves Firefox and them out
}

// Section is the desktop section.
type Section struct {
	Config   Config
	Platform string // the runtools server's own platform

	VCPUs, MemoryMB int // of the desktop sandboxes, as the API reported them
	Create          stats.PhaseSet
	Screen          client.ScreenSize
	Shots           stats.Samples
	ShotBytes       stats.Sizes
	Launch          time.Duration  // `Launch("firefox")` until it returned with the window
	Window          string         // the title of the window Launch reported
	Cycle           stats.PhaseSet // pause, resume, resume to usable, and their parts
	Images          stats.Sizes    // checkpoint image sizes the daemon logged
	FirefoxSeen     int            // resumes after which a Firefox window was listed
	FirefoxMissing  string         // the windows listed after the first resume without one
	Skipped         string         // why the section did not run, if it did not
	ShotSkipped     string         // why the screenshots did not run, if they did not
	PauseSkipped    string         // why Firefox and the pause runs did not run, if they did not
	Took            time.Duration
}

var _ section.Section = (*Section)(nil)

// The desktop template and what the section measures, as the report names
// it.
const (
	desktopTemplate = "desktop"
	desktopPort     = 6901 // where the desktop serves noVNC (sandbox.DesktopPort)
	phVNC           = "create to vncReady (`client.Create`, then `client.Get` every 50 ms until `vnc_ready`)"
	phCreate        = "create: `client.Create` returns (sandbox running, agent answering)"
	phWait          = "create: from Create's return until `vnc_ready` is seen"
	phProbe         = "create: (the daemon's own probe, from the sandbox running until noVNC answers: \"desktop ready after=\" in its log)"
	phUsable        = "resume to usable: `client.Resume` + the first screenshot that succeeds"
	phShotAfter     = "resume: the first screenshot after Resume returned (retried every 50 ms until it succeeds)"
)

// Timings of the section that are not flags.
const (
	poll        = 50 * time.Millisecond
	readyBy     = 3 * time.Minute  // create to vncReady, at most
	firefoxRest = 3 * time.Second  // after Firefox's window shows, before the first pause
	usableBy    = 30 * time.Second // after Resume, until a screenshot must have succeeded
)

// The reference figures for a raw gVisor checkpoint and restore of
// a desktop sandbox with Firefox open, measured by an earlier session by
// hand, not by this bench.
const (
	refRawCheckpoint = 740 * time.Millisecond
	refRawRestore    = 860 * time.Millisecond
)

// Name is "desktop".
func (s *Section) Name() string { return "desktop" }

// Run measures, unless -desktop-runs=0 left the section out; a failure
// is reported as not measured.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	s.Platform = env.Server.Platform
	return section.Optional(ctx, "desktop", s.Config.Runs == 0, "-desktop-runs=0", &s.Skipped,
		func() error { return s.measure(ctx, env) })
}

// measure creates desktop sandboxes one after another, timing each from
// Create until the API says its VNC client is ready, and keeps the last
// for the screenshots and for pause and resume with Firefox open. Every
// desktop sandbox is removed, at once on failure and by undo on Ctrl-C.
func (s *Section) measure(ctx context.Context, env *section.Env) (err error) {
	t := time.Now()
	fmt.Fprintln(os.Stderr, "desktop sandboxes")
	var remove func(context.Context) error
	defer func() {
		if err != nil && ctx.Err() == nil && remove != nil {
			err = errors.Join(err, remove(ctx))
		}
	}()
	var sb *client.Sandbox
	for i := range s.Config.Runs {
		if remove != nil {
			if err := remove(ctx); err != nil {
				return err
			}
		}
		if err := measure.Settle(ctx); err != nil {
			return err
		}
		var ph []stats.Phase
		if sb, remove, ph, err = createDesktop(ctx, env); err != nil {
			return err
		}
		s.Create.Add(ph)
		measure.Progress("desktop create to vncReady", i, 0, s.Config.Runs)
	}
	s.VCPUs, s.MemoryMB = sb.VCPUs, sb.MemoryMB
	if s.Screen, err = sb.Computer().ScreenSize(ctx); err != nil {
		return fmt.Errorf("reading the screen size of %s: %w", sb.ID, err)
	}
	if err := s.measureParts(ctx, env.Server, sb); err != nil {
		return err
	}
	s.Took = time.Since(t)
	return remove(ctx)
}

// measureParts measures the screenshots, then pause and resume with
// Firefox open; each part that fails is reported as not measured.
func (s *Section) measureParts(ctx context.Context, srv *server.Server, sb *client.Sandbox) error {
	if s.Config.ShotRuns == 0 {
		s.ShotSkipped = "left out with -desktop-shot-runs=0"
	} else if err := s.measureScreenshots(ctx, sb); err != nil {
		if ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "\nbench: the desktop screenshots failed: %v\n", err)
		s.ShotSkipped = "failed: " + err.Error()
	}
	if s.Config.PauseRuns == 0 {
		s.PauseSkipped = "left out with -desktop-pause-runs=0"
	} else if err := s.measurePause(ctx, srv, sb); err != nil {
		if ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "\nbench: the desktop pause runs failed: %v\n", err)
		s.PauseSkipped = "failed: " + err.Error()
	}
	return nil
}

// createDesktop creates a desktop sandbox that never pauses by itself and
// polls it until the API says its VNC client is ready, timing both from
// before Create. Its removal is registered with undo and returned, also
// on failure once the sandbox exists; it is safe to call twice.
func createDesktop(ctx context.Context, env *section.Env) (*client.Sandbox, func(context.Context) error, []stats.Phase, error) {
	srv := env.Server
	t0 := time.Now()
	sb, remove, err := env.Idle(ctx, desktopTemplate, "the desktop sandbox")
	if err != nil {
		return nil, nil, nil, err
	}
	t1 := time.Now()
	if !sb.Desktop {
		return sb, remove, nil, fmt.Errorf("sandbox %s of template %s is not a desktop", sb.ID, desktopTemplate)
	}
	if err := waitVNC(ctx, srv, sb, t0); err != nil {
		return sb, remove, nil, err
	}
	t2 := time.Now()
	ph := []stats.Phase{{Name: phVNC, D: t2.Sub(t0)}, {Name: phCreate, D: t1.Sub(t0)}, {Name: phWait, D: t2.Sub(t1)}}
	if d, ok := srv.LoggedAfter("desktop ready", sb.ID); ok {
		ph = append(ph, stats.Phase{Name: phProbe, D: d})
	}
	return sb, remove, ph, nil
}

// waitVNC polls sb until the API says its VNC client is ready, for up to
// readyBy after t0.
func waitVNC(ctx context.Context, srv *server.Server, sb *client.Sandbox, t0 time.Time) error {
	for {
		got, err := srv.Client.Get(ctx, sb.ID)
		if err != nil {
			return fmt.Errorf("waiting for the desktop of %s: %w", sb.ID, err)
		}
		if got.VNCReady {
			return nil
		}
		if got.State != client.StateRunning {
			return fmt.Errorf("desktop sandbox %s is %s before its VNC client was ready", sb.ID, got.State)
		}
		if time.Since(t0) > readyBy {
			return fmt.Errorf("the desktop of %s was not ready %v after Create (console: %s)", sb.ID, readyBy,
				host.LastLines(readFile(filepath.Join(srv.SandboxDir(sb.ID), "console.log")), 10))
		}
		if err := measure.Sleep(ctx, poll); err != nil {
			return err
		}
	}
}

// measureScreenshots times Computer.Screenshot, after one uncounted call,
// and checks that each answer is a PNG.
func (s *Section) measureScreenshots(ctx context.Context, sb *client.Sandbox) error {
	comp := sb.Computer()
	for i := -1; i < s.Config.ShotRuns; i++ {
		if err := measure.Settle(ctx); err != nil {
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
			s.Shots = append(s.Shots, d)
			s.ShotBytes = append(s.ShotBytes, int64(len(png)))
		}
		measure.Progress("desktop screenshot", i, 1, s.Config.ShotRuns)
	}
	return nil
}

// measurePause launches Firefox (timed), lets it rest, then pauses and
// resumes the sandbox PauseRuns times, each time checking that Firefox's
// window is still there.
func (s *Section) measurePause(ctx context.Context, srv *server.Server, sb *client.Sandbox) error {
	if err := measure.Settle(ctx); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "desktop: launching Firefox")
	t0 := time.Now()
	res, err := sb.Computer().Launch(ctx, "firefox")
	s.Launch = time.Since(t0)
	if err != nil {
		return fmt.Errorf("launching Firefox in %s: %w", sb.ID, err)
	}
	if res.Window != nil {
		s.Window = res.Window.Title
	}
	if err := measure.Sleep(ctx, firefoxRest); err != nil {
		return err
	}
	p := &pauser{s: srv, sb: sb, sec: s}
	out, err := measure.Cycles(ctx, "desktop pause/resume with Firefox", []measure.Cycler{p.cycler()}, s.Config.PauseRuns, 0)
	if err != nil {
		return err
	}
	if out[0].Dropped != "" {
		return errors.New(out[0].Dropped)
	}
	s.Cycle = out[0].Phases
	return nil
}
