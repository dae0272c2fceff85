package network

import (
	"context"
	"log/slog"
)

// undoStack collects the steps that reverse a multi-step operation. If the
// operation fails, rollback runs them newest first; on success, release
// forgets them.
type undoStack struct {
	steps []undoStep
}

type undoStep struct {
	what string
	fn   func() error
}

// push registers fn, which reverses the step just taken, described by what.
func (u *undoStack) push(what string, fn func() error) {
	u.steps = append(u.steps, undoStep{what, fn})
}

// release forgets every step: the operation succeeded.
func (u *undoStack) release() { u.steps = nil }

// rollback runs the registered steps newest first, logging (not returning)
// their failures, since the caller is already returning the error that
// caused the rollback.
func (u *undoStack) rollback(ctx context.Context, log *slog.Logger) {
	for i := len(u.steps) - 1; i >= 0; i-- {
		s := u.steps[i]
		if err := s.fn(); err != nil {
			log.ErrorContext(ctx, "undo failed; manual cleanup may be needed", "step", s.what, "err", err)
		}
	}
	u.steps = nil
}
