package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// writeStdin writes data to the stdin of a background process started with
// stdin_open, then with eof closes it. Writes are whole and in order: one
// at a time. While the process does not read, it waits, checking every
// stdinCheck whether ctx has ended.
func (p *process) writeStdin(ctx context.Context, data []byte, eof bool) error {
	if !p.background {
		return fmt.Errorf("%w: process %d runs in the foreground; its stdin belongs to its exec or attach stream", errdefs.ErrConflict, p.pid)
	}
	if !p.stdinOpen {
		return fmt.Errorf("%w: process %d was started without stdin_open; start it with stdin_open to write to its stdin", errdefs.ErrConflict, p.pid)
	}
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if p.stdinEOF.Load() {
		return fmt.Errorf("%w: the stdin of process %d is closed already", errdefs.ErrConflict, p.pid)
	}
	exited := func() error {
		return fmt.Errorf("%w: process %d has exited; its stdin is closed", errdefs.ErrConflict, p.pid)
	}
	if p.exitedAt.Load() != 0 {
		return exited()
	}
	for len(data) > 0 {
		p.stdin.SetWriteDeadline(time.Now().Add(stdinCheck))
		n, err := p.stdin.Write(data)
		data = data[n:]
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if ctx.Err() != nil {
				return fmt.Errorf("process %d did not take its input: %w", p.pid, ctx.Err())
			}
		case p.exitedAt.Load() != 0, errors.Is(err, os.ErrClosed):
			return exited()
		case errors.Is(err, syscall.EPIPE):
			p.stdinBroken.Store(true)
			return fmt.Errorf("%w: process %d closed its stdin", errdefs.ErrConflict, p.pid)
		default:
			return fmt.Errorf("writing to the stdin of process %d: %w", p.pid, err)
		}
	}
	if eof {
		p.stdinEOF.Store(true)
		p.stdin.Close()
	}
	return nil
}

// stdinWritable reports whether writeStdin can still reach the process: it
// was started in the background with stdin_open, the caller has not closed
// its stdin, no write found it closed by the process, and it has not
// exited. A process that closed its stdin without being written to since
// still counts as writable: only a write can tell.
func (p *process) stdinWritable() bool {
	return p.background && p.stdinOpen && !p.stdinEOF.Load() && !p.stdinBroken.Load() && p.exitedAt.Load() == 0
}
