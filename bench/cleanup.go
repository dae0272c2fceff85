package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// undoStack holds what to remove, in the reverse order it was made. It
// runs with a context of its own, so it still works after a Ctrl-C has
// cancelled the bench's context.
type undoStack struct {
	steps []undoStep
}

type undoStep struct {
	what string
	fn   func(context.Context) error
}

func (u *undoStack) push(what string, fn func(context.Context) error) {
	u.steps = append(u.steps, undoStep{what, fn})
}

// run undoes every step, newest first, reporting failures on stderr, and
// returns how many failed.
func (u *undoStack) run() int {
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
