// Package section is what every part of the bench implements, and what it
// is given to run: the runtools server under test, the systems it is
// compared with (made on first use), and the stack of cleanup steps.
package section

import (
	"context"
	"fmt"
	"os"

	"github.com/runtools/runtools/bench/internal/report"
)

// Section is one part of the bench that -only can pick: it measures one
// thing and writes its part of the report. The bench runs its sections
// one after another, in a fixed order, then renders the report from them.
type Section interface {
	// Name is what -only calls the section.
	Name() string
	// Run measures. What it makes goes on env.Undo, so that it is removed
	// also on failure or Ctrl-C. An error stops the bench; a section whose
	// failure need not spoil the others records why it was not measured
	// (see Survive) and returns nil.
	Run(ctx context.Context, env *Env) error
	// Report renders the section's part of the report from what Run
	// measured.
	Report() (report.Part, error)
}

// Survive reports a failed section as not measured, saying why in
// *skipped, so that the rest of the report survives; an interruption still
// stops the bench. what names the section in messages.
func Survive(ctx context.Context, what string, err error, skipped *string) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Fprintf(os.Stderr, "\nbench: the %s section failed: %v\n", what, err)
	*skipped = "failed: " + err.Error()
	return nil
}

// Optional runs measure as the Run of a section that a flag can leave
// out. If off, measure does not run and *skipped says the flag left the
// section out; else a failure of measure is reported as not measured, as
// Survive does. what names the section in messages, flag the setting that
// leaves it out, such as "-ssh-runs=0".
func Optional(ctx context.Context, what string, off bool, flag string, skipped *string, measure func() error) error {
	if off {
		*skipped = "left out with " + flag
		return nil
	}
	return Survive(ctx, what, measure(), skipped)
}
