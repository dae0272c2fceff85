package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Point is a position on a desktop sandbox's screen, in pixels from the
// top left.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// ScreenSize is a desktop sandbox's screen size in pixels.
type ScreenSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Window is a top-level window on a desktop sandbox's screen.
type Window struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Computer-use actions (ComputerAction.Action).
const (
	ActionMove   = "move"   // X, Y
	ActionClick  = "click"  // X, Y optional; Button left (default), middle or right; Count 1-3
	ActionScroll = "scroll" // X, Y optional; DX right, DY down (notches; negative: left, up)
	ActionType   = "type"   // Text
	ActionKey    = "key"    // Keys, e.g. ["ctrl+l"], ["Return"]
	ActionLaunch = "launch" // App (firefox, chromium, terminal, or a program on PATH), Args
)

// ComputerAction is one act on a desktop sandbox's screen, mouse or
// keyboard. The call returns once its effect is done.
type ComputerAction struct {
	Action string   `json:"action"`
	X      *int     `json:"x,omitempty"`
	Y      *int     `json:"y,omitempty"`
	Button string   `json:"button,omitempty"`
	Count  int      `json:"count,omitempty"`
	DX     int      `json:"dx,omitempty"`
	DY     int      `json:"dy,omitempty"`
	Text   string   `json:"text,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	App    string   `json:"app,omitempty"`
	Args   []string `json:"args,omitempty"`
}

// ComputerResult answers an action: where the cursor is afterwards, and
// for a launch the process and its new window.
type ComputerResult struct {
	Cursor Point   `json:"cursor"`
	PID    int     `json:"pid,omitempty"`
	Window *Window `json:"window,omitempty"`
}

// Screenshot returns a desktop sandbox's screen as PNG.
func (c *Client) Screenshot(ctx context.Context, ref string) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, sandboxPath(ref, "computer", "screenshot"), nil, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	png, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the screenshot: %w", err)
	}
	return png, nil
}

// ScreenSize returns a desktop sandbox's screen size.
func (c *Client) ScreenSize(ctx context.Context, ref string) (ScreenSize, error) {
	var s ScreenSize
	err := c.call(ctx, http.MethodGet, sandboxPath(ref, "computer", "screen"), nil, nil, &s)
	return s, err
}

// Cursor returns where a desktop sandbox's mouse pointer is.
func (c *Client) Cursor(ctx context.Context, ref string) (Point, error) {
	var p Point
	err := c.call(ctx, http.MethodGet, sandboxPath(ref, "computer", "cursor"), nil, nil, &p)
	return p, err
}

// Windows lists a desktop sandbox's visible windows.
func (c *Client) Windows(ctx context.Context, ref string) ([]Window, error) {
	return getList[Window](ctx, c, sandboxPath(ref, "computer", "windows"), nil, "windows")
}

// Act performs one computer-use action on a desktop sandbox.
func (c *Client) Act(ctx context.Context, ref string, a ComputerAction) (*ComputerResult, error) {
	var res ComputerResult
	if err := c.call(ctx, http.MethodPost, sandboxPath(ref, "computer", "actions"), nil, a, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Computer drives one desktop sandbox's screen, mouse and keyboard.
func (s *Sandbox) Computer() *Computer { return &Computer{c: s.c, ref: s.ref()} }

// Computer is the computer-use API of one desktop sandbox.
type Computer struct {
	c   *Client
	ref string
}

// Screenshot returns the screen as PNG.
func (m *Computer) Screenshot(ctx context.Context) ([]byte, error) { return m.c.Screenshot(ctx, m.ref) }

// ScreenSize returns the screen's size.
func (m *Computer) ScreenSize(ctx context.Context) (ScreenSize, error) {
	return m.c.ScreenSize(ctx, m.ref)
}

// Cursor returns the pointer's position.
func (m *Computer) Cursor(ctx context.Context) (Point, error) { return m.c.Cursor(ctx, m.ref) }

// Windows lists the visible windows.
func (m *Computer) Windows(ctx context.Context) ([]Window, error) { return m.c.Windows(ctx, m.ref) }

// Move moves the pointer to (x, y).
func (m *Computer) Move(ctx context.Context, x, y int) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionMove, X: &x, Y: &y})
	return err
}

// Click clicks the left button at (x, y).
func (m *Computer) Click(ctx context.Context, x, y int) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionClick, X: &x, Y: &y})
	return err
}

// DoubleClick double-clicks the left button at (x, y).
func (m *Computer) DoubleClick(ctx context.Context, x, y int) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionClick, X: &x, Y: &y, Count: 2})
	return err
}

// RightClick clicks the right button at (x, y).
func (m *Computer) RightClick(ctx context.Context, x, y int) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionClick, X: &x, Y: &y, Button: "right"})
	return err
}

// Scroll scrolls dy notches down (negative: up) where the pointer is.
func (m *Computer) Scroll(ctx context.Context, dy int) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionScroll, DY: dy})
	return err
}

// Type types text.
func (m *Computer) Type(ctx context.Context, text string) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionType, Text: text})
	return err
}

// Key presses keys in turn: names or combinations such as "ctrl+l",
// "Return" or "alt+F4".
func (m *Computer) Key(ctx context.Context, keys ...string) error {
	_, err := m.c.Act(ctx, m.ref, ComputerAction{Action: ActionKey, Keys: keys})
	return err
}

// Launch starts an app (firefox, chromium, terminal, or a program on PATH) and
// returns once its window shows.
func (m *Computer) Launch(ctx context.Context, app string, args ...string) (*ComputerResult, error) {
	return m.c.Act(ctx, m.ref, ComputerAction{Action: ActionLaunch, App: app, Args: args})
}
