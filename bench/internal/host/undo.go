package host

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Undo holds what to remove, in the reverse order it was made. It runs
// with a context of its own, so it still works after a Ctrl-C has
// cancelled the bench's context.
type Undo struct {
	steps []undoStep
}

type undoStep struct {
	what string
	fn   func(context.Context) error
}

// Push adds a step; what names it in error messages.
func (u *Undo) Push(what string, fn func(context.Context) error) {
	u.steps = append(u.steps, undoStep{what, fn})
}

// Run undoes every step, newest first, reporting failures on stderr, and
// returns how many failed.
func (u *Undo) Run() int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	failed := 0
	for i := len(u.steps) - 1; i >= 0; i-- {
		s := u.steps[i]
		if err := s.fn(ctx); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "bench: cleanup: %s: %v\n", s.what, err)
		}
	}
	u.steps = nil
	return failed
}

// Once returns fn guarded so that only its first call runs it: a removal
// both a section and the cleanup stack may call.
func Once(fn func(context.Context) error) func(context.Context) error {
	done := false
	return func(ctx context.Context) error {
		if done {
			return nil
		}
		done = true
		return fn(ctx)
	}
}
