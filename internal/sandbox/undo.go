package sandbox

import (
	"context"
	"log/slog"
)

// undo collects the reverse of each completed step of a multi-step
// operation. On failure run() unwinds them newest first; on success
// release() drops them.
type undo struct {
	steps []undoStep
}

type undoStep struct {
	what string
	fn   func(context.Context) error
}

func (u *undo) add(what string, fn func(context.Context) error) {
	u.steps = append(u.steps, undoStep{what, fn})
}

func (u *undo) release() { u.steps = nil }

// run unwinds every step, logging (not returning) failures so one broken
// step does not keep the others from running.
func (u *undo) run(ctx context.Context, log *slog.Logger) {
	for i := len(u.steps) - 1; i >= 0; i-- {
		s := u.steps[i]
		if err := s.fn(ctx); err != nil {
			log.Warn("undo step failed", "step", s.what, "err", err)
		}
	}
	u.steps = nil
}
