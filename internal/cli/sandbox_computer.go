package cli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/runtools/runtools/client"
)

func (a *app) sandboxScreenshotCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "screenshot NAME -o FILE",
		Short: "Save a desktop sandbox's screen as PNG",
		Long: `Take a screenshot of a desktop sandbox (template desktop) and write it
as PNG to FILE, or to standard output with -o -.`,
		Example: `  runtools sandbox screenshot desk -o shot.png`,
		Args:    argsRange(1, 1, "needs a sandbox NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr(cmd, "-o FILE is required (- for standard output)")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			png, err := c.Screenshot(cmd.Context(), args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			if out == "-" {
				_, err = cmd.OutOrStdout().Write(png)
				return err
			}
			if err := os.WriteFile(out, png, 0o644); err != nil {
				return fmt.Errorf("writing the screenshot: %w", err)
			}
			writef(cmd.ErrOrStderr(), "saved %s (%d KB)\n", out, (len(png)+1023)/1024)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "PNG file to write; - for standard output")
	return cmd
}

func (a *app) sandboxComputerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "computer",
		Short: "Drive a desktop sandbox's mouse and keyboard",
		Long: `Act on a desktop sandbox (template desktop) as a person or an agent would:
move and click the mouse, scroll, type, press keys, launch apps, and read
the screen size, the cursor position and the windows. Each command returns
once its effect is done. See also 'runtools sandbox screenshot'.`,
		Example: `  runtools sandbox computer launch desk firefox
  runtools sandbox computer click desk 640 400
  runtools sandbox computer type desk 'hello world'
  runtools sandbox computer key desk ctrl+l Return
  runtools sandbox computer scroll desk 5`,
	}
	cmd.AddCommand(
		a.computerActCmd("move NAME X Y", "Move the mouse pointer", argsRange(3, 3, "needs a sandbox NAME, X and Y"),
			func(cmd *cobra.Command, args []string) (client.ComputerAction, error) {
				x, y, err := parseXY(cmd, args)
				return client.ComputerAction{Action: client.ActionMove, X: x, Y: y}, err
			}),
		a.computerClickCmd(),
		a.computerActCmd("scroll NAME NOTCHES", "Scroll down (negative: up) where the pointer is", argsRange(2, 2, "needs a sandbox NAME and NOTCHES"),
			func(cmd *cobra.Command, args []string) (client.ComputerAction, error) {
				n, err := strconv.Atoi(args[1])
				if err != nil {
					return client.ComputerAction{}, usageErr(cmd, "NOTCHES must be a number, got %q", args[1])
				}
				return client.ComputerAction{Action: client.ActionScroll, DY: n}, nil
			}),
		a.computerActCmd("type NAME TEXT", "Type text", argsRange(2, 2, "needs a sandbox NAME and TEXT"),
			func(cmd *cobra.Command, args []string) (client.ComputerAction, error) {
				return client.ComputerAction{Action: client.ActionType, Text: args[1]}, nil
			}),
		a.computerActCmd("key NAME KEY...", "Press keys or combinations (ctrl+l, Return, alt+F4)", argsRange(2, -1, "needs a sandbox NAME and a KEY"),
			func(cmd *cobra.Command, args []string) (client.ComputerAction, error) {
				return client.ComputerAction{Action: client.ActionKey, Keys: args[1:]}, nil
			}),
		a.computerActCmd("launch NAME APP [ARG...]", "Start an app (firefox, chromium, terminal, files, or a program) and wait for its window", argsRange(2, -1, "needs a sandbox NAME and an APP"),
			func(cmd *cobra.Command, args []string) (client.ComputerAction, error) {
				return client.ComputerAction{Action: client.ActionLaunch, App: args[1], Args: args[2:]}, nil
			}),
		a.computerInfoCmd(),
	)
	return cmd
}

// computerActCmd makes a computer command that does the action build makes
// of its arguments.
func (a *app) computerActCmd(use, short string, args cobra.PositionalArgs, build func(cmd *cobra.Command, args []string) (client.ComputerAction, error)) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			action, err := build(cmd, args)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := c.Act(cmd.Context(), args[0], action)
			if err != nil {
				return sandboxErr(args[0], err)
			}
			if res.Window != nil {
				writef(cmd.OutOrStdout(), "started pid %d, window %s %q\n", res.PID, res.Window.ID, res.Window.Title)
			}
			return nil
		},
	}
}

func (a *app) computerClickCmd() *cobra.Command {
	var button string
	var count int
	cmd := a.computerActCmd("click NAME [X Y]", "Click (where the pointer is, or at X Y)", argsRange(1, 3, "needs a sandbox NAME, and X Y or nothing"),
		func(cmd *cobra.Command, args []string) (client.ComputerAction, error) {
			if len(args) == 2 {
				return client.ComputerAction{}, usageErr(cmd, "give both X and Y, or neither")
			}
			x, y, err := parseXY(cmd, args)
			return client.ComputerAction{Action: client.ActionClick, X: x, Y: y, Button: button, Count: count}, err
		})
	cmd.Flags().StringVar(&button, "button", "left", "left, middle or right")
	cmd.Flags().IntVar(&count, "count", 1, "clicks: 2 double-clicks")
	return cmd
}

// parseXY reads the arguments X Y after NAME, if given.
func parseXY(cmd *cobra.Command, args []string) (*int, *int, error) {
	if len(args) < 3 {
		return nil, nil, nil
	}
	x, err1 := strconv.Atoi(args[1])
	y, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		return nil, nil, usageErr(cmd, "X and Y must be numbers of pixels, got %q %q", args[1], args[2])
	}
	return &x, &y, nil
}

// computerInfoCmd prints the screen size, cursor position and windows.
func (a *app) computerInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info NAME",
		Short: "Print the screen size, the cursor position and the windows",
		Args:  argsRange(1, 1, "needs a sandbox NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			size, err := c.ScreenSize(ctx, args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			cur, err := c.Cursor(ctx, args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			ws, err := c.Windows(ctx, args[0])
			if err != nil {
				return sandboxErr(args[0], err)
			}
			w := cmd.OutOrStdout()
			writef(w, "screen  %dx%d\ncursor  %d,%d\n", size.Width, size.Height, cur.X, cur.Y)
			for _, win := range ws {
				writef(w, "window  %s  %s\n", win.ID, win.Title)
			}
			return nil
		},
	}
}
