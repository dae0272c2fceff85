package build

import (
	"context"
	"fmt"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/hostfs"
)

// diskCheckEvery is how often a step's layer is measured while it runs.
var diskCheckEvery = 2 * time.Second

// watchDisk bounds what one build step writes into its layer at dir: it
// measures dir every diskCheckEvery and cancels the returned context once
// it holds more than limit bytes. stop ends the watch, measures once more
// and says whether the limit was passed. A step can overshoot by what it
// writes between two checks, never for long.
func watchDisk(ctx context.Context, dir string, limit int64) (context.Context, func() error) {
	wctx, cancel := context.WithCancelCause(ctx)
	over := func() error {
		if n, err := hostfs.DiskUsage(dir); err == nil && n > limit {
			return fmt.Errorf("%w: the step wrote %d MB, more than the %d MB a build step may (the server's --build-disk-mb)",
				errdefs.ErrResourceExhausted, n>>20, limit>>20)
		}
		return nil
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(diskCheckEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-wctx.Done():
				return
			case <-tick.C:
				if err := over(); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return wctx, func() error {
		close(done)
		err := context.Cause(wctx)
		cancel(nil)
		if err != nil && err != ctx.Err() && err != context.Canceled {
			return err // the watch's own
		}
		return over()
	}
}
