// Package computer drives the screen, mouse and keyboard of a desktop
// sandbox for agents ("computer use"): screenshots, pointer and keys through
// xdotool and scrot, run inside the sandbox on its X display. Every call
// returns once its effect is done.
package computer

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Display is the X display of a desktop sandbox.
const Display = ":1"

// Runner runs a command in the sandbox and returns its output once it has
// exited. A command that ran and failed is not an error: code says so.
type Runner interface {
	Run(ctx context.Context, cmd []string, env map[string]string) (stdout, stderr []byte, code int, err error)
	// Start runs a command in the background and returns its pid.
	Start(ctx context.Context, cmd []string, env map[string]string) (int, error)
}

// Computer is one desktop sandbox's screen, mouse and keyboard.
type Computer struct {
	r Runner
	// LaunchWait bounds how long Launch waits for the app's window.
	LaunchWait time.Duration
}

// New returns the computer of the sandbox that r runs commands in.
func New(r Runner) *Computer { return &Computer{r: r, LaunchWait: 60 * time.Second} }

// Point is a position on the screen, in pixels from the top left.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// Size is the screen's size in pixels.
type Size struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// env is the environment of every command: the desktop's display.
var env = map[string]string{"DISPLAY": Display, "HOME": "/root"}

// run runs cmd and turns a failure into an error that says what failed.
func (c *Computer) run(ctx context.Context, what string, cmd ...string) ([]byte, error) {
	out, errOut, code, err := c.r.Run(ctx, cmd, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if code != 0 {
		msg := strings.TrimSpace(string(errOut))
		if strings.Contains(msg, "Can't open display") || strings.Contains(msg, "cannot open display") {
			return nil, fmt.Errorf("%w: %s: the desktop's X server is not running (is this a desktop sandbox, and is it ready?)", errdefs.ErrConflict, what)
		}
		if code == 127 {
			return nil, fmt.Errorf("%w: %s: %s is not installed in this sandbox: use the desktop template", errdefs.ErrConflict, what, cmd[0])
		}
		return nil, fmt.Errorf("%s: %s exited %d: %s", what, cmd[0], code, msg)
	}
	return out, nil
}

// Screenshot returns the whole screen as PNG.
func (c *Computer) Screenshot(ctx context.Context) ([]byte, error) {
	// scrot writes the PNG to stdout when its file name is "-".
	png, err := c.run(ctx, "taking a screenshot", "scrot", "--overwrite", "--silent", "-")
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, fmt.Errorf("taking a screenshot: scrot's output is not a PNG (%d bytes)", len(png))
	}
	return png, nil
}

// Screen returns the screen's size.
func (c *Computer) Screen(ctx context.Context) (Size, error) {
	out, err := c.run(ctx, "reading the screen size", "xdotool", "getdisplaygeometry")
	if err != nil {
		return Size{}, err
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return Size{}, fmt.Errorf("reading the screen size: unexpected %q", out)
	}
	w, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Size{}, fmt.Errorf("reading the screen size: unexpected %q", out)
	}
	return Size{Width: w, Height: h}, nil
}

// Cursor returns the pointer's position.
func (c *Computer) Cursor(ctx context.Context) (Point, error) {
	out, err := c.run(ctx, "reading the cursor position", "xdotool", "getmouselocation", "--shell")
	if err != nil {
		return Point{}, err
	}
	var p Point
	var gotX, gotY bool
	for l := range strings.SplitSeq(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		switch k {
		case "X":
			p.X, gotX = n, true
		case "Y":
			p.Y, gotY = n, true
		}
	}
	if !gotX || !gotY {
		return Point{}, fmt.Errorf("reading the cursor position: unexpected %q", out)
	}
	return p, nil
}

// Move moves the pointer to p.
func (c *Computer) Move(ctx context.Context, p Point) error {
	cmd, err := xdotoolAt(&p)
	if err != nil {
		return err
	}
	_, err = c.run(ctx, "moving the mouse", cmd...)
	return err
}

// Buttons are the mouse buttons Click takes.
var buttons = map[string]string{"": "1", "left": "1", "middle": "2", "right": "3"}

// Click clicks button (left, middle or right; default left) at p, or where
// the pointer is when p is nil, count times (1 to 3; 0 is 1).
func (c *Computer) Click(ctx context.Context, p *Point, button string, count int) error {
	b, ok := buttons[button]
	if !ok {
		return fmt.Errorf("%w: button %q: want left, middle or right", errdefs.ErrInvalidArgument, button)
	}
	if count == 0 {
		count = 1
	}
	if count < 1 || count > 3 {
		return fmt.Errorf("%w: click count %d: want 1 to 3", errdefs.ErrInvalidArgument, count)
	}
	cmd, err := xdotoolAt(p)
	if err != nil {
		return err
	}
	cmd = append(cmd, "click", "--repeat", strconv.Itoa(count), "--delay", "80", b)
	_, err = c.run(ctx, "clicking", cmd...)
	return err
}

// Scroll scrolls by dy notches down (negative: up) and dx right (negative:
// left), at p or where the pointer is.
func (c *Computer) Scroll(ctx context.Context, p *Point, dx, dy int) error {
	if dx == 0 && dy == 0 {
		return fmt.Errorf("%w: scroll by nothing: give dx or dy", errdefs.ErrInvalidArgument)
	}
	// Not abs(dx) > 100: abs(math.MinInt) is negative.
	if dx < -100 || dx > 100 || dy < -100 || dy > 100 {
		return fmt.Errorf("%w: scroll by at most 100 notches at once", errdefs.ErrInvalidArgument)
	}
	cmd, err := xdotoolAt(p)
	if err != nil {
		return err
	}
	// X buttons 4 and 5 scroll up and down, 6 and 7 left and right.
	add := func(n int, neg, pos string) {
		b := pos
		if n < 0 {
			b = neg
		}
		if n != 0 {
			cmd = append(cmd, "click", "--repeat", strconv.Itoa(abs(n)), "--delay", "20", b)
		}
	}
	add(dy, "4", "5")
	add(dx, "6", "7")
	_, err = c.run(ctx, "scrolling", cmd...)
	return err
}

// maxText bounds what Type types in one call.
const maxText = 64 << 10

// Type types text as if on a keyboard.
func (c *Computer) Type(ctx context.Context, text string) error {
	if text == "" {
		return fmt.Errorf("%w: nothing to type", errdefs.ErrInvalidArgument)
	}
	if len(text) > maxText {
		return fmt.Errorf("%w: at most %d bytes of text per call", errdefs.ErrInvalidArgument, maxText)
	}
	_, err := c.run(ctx, "typing", "xdotool", "type", "--delay", "8", "--", text)
	return err
}

// keyPattern is one key or combination, as xdotool names them: ctrl+l,
// Return, alt+F4, shift+Tab, super, ...
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$`)

// Key presses keys in turn, each a key or a combination such as "ctrl+l"
// or "Return".
func (c *Computer) Key(ctx context.Context, keys ...string) error {
	if len(keys) == 0 || len(keys) > 64 {
		return fmt.Errorf("%w: give 1 to 64 keys", errdefs.ErrInvalidArgument)
	}
	for _, k := range keys {
		if !keyPattern.MatchString(k) {
			return fmt.Errorf("%w: key %q: want a key name or combination such as ctrl+l, Return or alt+F4", errdefs.ErrInvalidArgument, k)
		}
	}
	_, err := c.run(ctx, "pressing keys", append([]string{"xdotool", "key", "--delay", "30", "--"}, keys...)...)
	return err
}

// xdotoolAt starts an xdotool command line that first moves the pointer
// to p, if p is not nil, refusing a point off the screen.
func xdotoolAt(p *Point) ([]string, error) {
	if p == nil {
		return []string{"xdotool"}, nil
	}
	if p.X < 0 || p.Y < 0 || p.X > 16384 || p.Y > 16384 {
		return nil, fmt.Errorf("%w: point (%d, %d) is off the screen", errdefs.ErrInvalidArgument, p.X, p.Y)
	}
	return []string{"xdotool", "mousemove", "--sync", strconv.Itoa(p.X), strconv.Itoa(p.Y)}, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
