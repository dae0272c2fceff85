package cli

import (
	"fmt"
	"io"
	"time"
)

// progress shows a long operation on stderr when stderr is a terminal:
// "creating sandbox my-env from base... done (412ms)". Otherwise it says
// nothing, so output stays parseable.
type progress struct {
	w     io.Writer // nil when quiet
	now   func() time.Time
	start time.Time
}

func (a *app) startProgress(stderr io.Writer, format string, args ...any) *progress {
	p := &progress{now: a.now, start: a.now()}
	if a.terminal(stderr) {
		p.w = stderr
		writef(p.w, "%s... ", fmt.Sprintf(format, args...))
	}
	return p
}

// end finishes the line with "done (elapsed)" or "failed".
func (p *progress) end(err error) {
	if p.w == nil {
		return
	}
	if err != nil {
		writef(p.w, "failed\n")
		return
	}
	writef(p.w, "done (%s)\n", elapsed(p.now().Sub(p.start)))
}
