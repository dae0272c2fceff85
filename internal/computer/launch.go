package computer

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Window is a top-level window on the screen.
type Window struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Apps are the names Launch knows, and what they run.
var apps = map[string][]string{
	"firefox":  {"firefox-esr"},
	"browser":  {"firefox-esr"},
	"chromium": {"chromium"},
	"terminal": {"xfce4-terminal"},
	"files":    {"thunar"},
}

var appPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// LaunchResult says what Launch started.
type LaunchResult struct {
	PID    int    `json:"pid"`
	Window Window `json:"window"`
}

// Launch starts app (a name such as firefox or terminal, or a program on
// PATH) with args in the background, and returns once a new window has
// appeared, or an error after LaunchWait.
func (c *Computer) Launch(ctx context.Context, app string, args ...string) (LaunchResult, error) {
	if !appPattern.MatchString(app) {
		return LaunchResult{}, fmt.Errorf("%w: app %q: want a name such as firefox or terminal, or a program on PATH", errdefs.ErrInvalidArgument, app)
	}
	cmd := slices.Clone(apps[app])
	if cmd == nil {
		cmd = []string{app}
	}
	cmd = append(cmd, args...)
	before, err := c.windows(ctx)
	if err != nil {
		return LaunchResult{}, err
	}
	pid, err := c.r.Start(ctx, cmd, env)
	if err != nil {
		return LaunchResult{}, fmt.Errorf("launching %s: %w", app, err)
	}
	deadline := time.Now().Add(c.LaunchWait)
	for {
		now, err := c.windows(ctx)
		if err != nil {
			return LaunchResult{}, err
		}
		for _, w := range now {
			if !slices.ContainsFunc(before, func(b Window) bool { return b.ID == w.ID }) {
				return LaunchResult{PID: pid, Window: w}, nil
			}
		}
		if time.Now().After(deadline) {
			return LaunchResult{PID: pid}, fmt.Errorf("%w: %s started (pid %d) but showed no window within %v", errdefs.ErrUnavailable, app, pid, c.LaunchWait)
		}
		select {
		case <-ctx.Done():
			return LaunchResult{PID: pid}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Windows lists the visible top-level windows that have a title.
func (c *Computer) Windows(ctx context.Context) ([]Window, error) { return c.windows(ctx) }

// windows lists visible, titled windows with wmctrl, which reads the
// window manager's own list of client windows.
func (c *Computer) windows(ctx context.Context) ([]Window, error) {
	out, err := c.run(ctx, "listing windows", "wmctrl", "-l")
	if err != nil {
		return nil, err
	}
	var ws []Window
	for l := range strings.SplitSeq(string(out), "\n") {
		// 0x01c00003  0 host Title words
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		title := ""
		if len(f) > 3 {
			title = strings.Join(f[3:], " ")
		}
		if f[1] == "-1" { // sticky: the panel, the desktop, the dock
			continue
		}
		ws = append(ws, Window{ID: f[0], Title: title})
	}
	return ws, nil
}
