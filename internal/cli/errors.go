package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

// ExitError ends the CLI with Code without printing anything: the command
// already said what happened (or, for `sandbox exec`, the code is the
// remote command's own exit code).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

func exitCode(err error) (int, bool) {
	var e *ExitError
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Code, true
}

// usageError is a mistake in the command line itself; it exits 2.
type usageError struct {
	cmd *cobra.Command
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usageErr(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

func asUsage(err error) (*usageError, bool) {
	var u *usageError
	ok := errors.As(err, &u)
	return u, ok
}

// explain returns err's message with a hint on what to do next for the
// error kinds a user can act on.
func explain(err error) string {
	msg := err.Error()
	hint := ""
	switch {
	case errors.Is(err, client.ErrUnauthenticated) && !strings.Contains(msg, "runtools login"):
		hint = "check the API key (--api-key, RUNTOOLS_API_KEY) or run `runtools login`"
	case errors.Is(err, client.ErrPermissionDenied):
		hint = "this needs a key with more rights, e.g. an admin key"
	}
	if hint != "" {
		return msg + ": " + hint
	}
	return msg
}

func printErr(w io.Writer, msg string) { writef(w, "error: %s\n", msg) }

// writef writes to a terminal or pipe where a failed write cannot be
// reported anywhere better.
func writef(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
