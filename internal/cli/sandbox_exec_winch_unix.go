//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// watchResize calls resize each time this terminal's window changes size
// (SIGWINCH), until the returned stop is called.
func watchResize(resize func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				resize()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
