package cli

import (
	"context"
	"io"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// shown is what a command with -o does: call the server, then print its
// answer, as JSON with -o json or else with print.
type shown[T any] struct {
	// arg says what args[0] is ("sandbox NAME"), checked with checkName
	// before anything is asked; "" when it is not checked.
	arg   string
	call  callFunc[T]
	print func(io.Writer, T) error
}

// callFunc asks the server what a command shows; args are the command's.
type callFunc[T any] func(cmd *cobra.Command, c *client.Client, args []string) (T, error)

// showCmd gives cmd the -o flag and a RunE that does s.
func showCmd[T any](a *app, cmd *cobra.Command, s shown[T]) *cobra.Command {
	var format string
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return s.run(a, cmd, format, args) }
	addOutputFlag(cmd, &format)
	return cmd
}

// listCmd makes cmd `list` (alias ls), which takes no arguments and shows
// what method returns: a table made by print, or a JSON array.
func listCmd[T any](a *app, cmd *cobra.Command, method func(*client.Client, context.Context) ([]T, error), print func(io.Writer, []T) error) *cobra.Command {
	cmd.Use, cmd.Aliases, cmd.Args = "list", []string{"ls"}, argsRange(0, 0, "takes no arguments")
	return showCmd(a, cmd, shown[[]T]{
		call:  listOf(func(cmd *cobra.Command, c *client.Client, _ []string) ([]T, error) { return method(c, cmd.Context()) }),
		print: print,
	})
}

// run does s for cmd, whose -o value is format.
func (s shown[T]) run(a *app, cmd *cobra.Command, format string, args []string) error {
	name := ""
	if s.arg != "" {
		name = args[0]
	}
	asJSON, c, err := a.begin(cmd, format, s.arg, name)
	if err != nil {
		return err
	}
	v, err := s.call(cmd, c, args)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), v)
	}
	return s.print(cmd.OutOrStdout(), v)
}

// begin is how a command with -o starts: it checks the -o value (format)
// and, when what is set ("sandbox NAME"), the name given for it, then makes
// the client, in that order, so that a bad command line is said first.
func (a *app) begin(cmd *cobra.Command, format, what, name string) (asJSON bool, c *client.Client, err error) {
	if asJSON, err = wantJSON(cmd, format); err != nil {
		return false, nil, err
	}
	if what != "" {
		if err := checkName(cmd, what, name); err != nil {
			return false, nil, err
		}
	}
	c, err = a.client()
	return asJSON, c, err
}

// listOf makes a list's call return an empty list rather than nil, so
// that -o json prints [] and never null.
func listOf[T any](fetch callFunc[[]T]) callFunc[[]T] {
	return func(cmd *cobra.Command, c *client.Client, args []string) ([]T, error) {
		items, err := fetch(cmd, c, args)
		if items == nil && err == nil {
			items = []T{}
		}
		return items, err
	}
}

// onSandbox calls a client method that takes the sandbox named by args[0],
// and explains a not found as the sandbox's.
func onSandbox[T any](method func(c *client.Client, ctx context.Context, ref string) (T, error)) callFunc[T] {
	return func(cmd *cobra.Command, c *client.Client, args []string) (T, error) {
		v, err := method(c, cmd.Context(), args[0])
		if err != nil {
			return v, sandboxErr(args[0], err)
		}
		return v, nil
	}
}
