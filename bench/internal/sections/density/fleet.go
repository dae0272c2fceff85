package density

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// fleet is the section's sandboxes.
type fleet struct {
	srv *server.Server
	mu  sync.Mutex
	sbs []*client.Sandbox
	ids []string // every one ever made, for the leak checks
}

func (f *fleet) add(sb *client.Sandbox) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sbs = append(f.sbs, sb)
	f.ids = append(f.ids, sb.ID)
}

func (f *fleet) list() []*client.Sandbox {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sbs)
}

// destroyAll destroys every sandbox of the fleet, destroyAtOnce at a
// time, and forgets those it destroyed; safe to call again.
func (f *fleet) destroyAll(ctx context.Context) error {
	sbs := f.list()
	errs := make([]error, len(sbs))
	forEach(ctx, len(sbs), destroyAtOnce, func(ctx context.Context, i int) {
		errs[i] = f.srv.Destroy(ctx, sbs[i])
	})
	f.mu.Lock()
	f.sbs = slices.DeleteFunc(f.sbs, func(sb *client.Sandbox) bool {
		i := slices.Index(sbs, sb)
		return i >= 0 && errs[i] == nil
	})
	f.mu.Unlock()
	return errors.Join(errs...)
}

// forEach calls fn for 0..n-1, at most k at a time, and waits for all.
func forEach(ctx context.Context, n, k int, fn func(context.Context, int)) {
	sem := make(chan struct{}, k)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case sem <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(ctx, i)
		})
	}
	wg.Wait()
}

// filler creates the fleet's sandboxes, some at a time.
type filler struct {
	mu       sync.Mutex
	failed   error // the first create that failed
	launched int
}

// stopAt says why creating should stop before the next sandbox, or "".
func (fl *filler) stopAt(s *Section, floor int64) (string, error) {
	fl.mu.Lock()
	failed := fl.failed
	fl.mu.Unlock()
	avail, err := host.Meminfo("MemAvailable")
	switch {
	case err != nil:
		return "", err
	case failed != nil:
		return "a create failed: " + failed.Error(), nil
	case fl.launched == s.Config.Max:
		return fmt.Sprintf("the cap, -density-max %d", s.Config.Max), nil
	case avail < floor:
		return fmt.Sprintf("MemAvailable fell to %s, below %d%% of MemTotal (%s)", report.GiB(avail), s.Config.FloorPct, report.GiB(floor)), nil
	}
	return "", nil
}

// fill creates sandboxes, Batch in flight, until a stop condition, and
// says which in s.Stop.
func (f *fleet) fill(ctx context.Context, s *Section) error {
	floor := s.MemTotal * int64(s.Config.FloorPct) / 100
	var fl filler
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.Config.Batch)
	t := time.Now()
	for s.Stop == "" {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case sem <- struct{}{}:
		}
		stop, err := fl.stopAt(s, floor)
		if err != nil || stop != "" {
			<-sem
			if err != nil {
				wg.Wait()
				return err
			}
			s.Stop = stop
			break
		}
		fl.launched++
		wg.Go(func() {
			defer func() { <-sem }()
			f.createOne(ctx, s, &fl)
		})
	}
	wg.Wait()
	fmt.Fprintln(os.Stderr)
	s.CreateTook = time.Since(t)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// A create that failed after the stop condition was met still counts
	// as why it stopped, if nothing else did.
	if fl.failed != nil && !strings.HasPrefix(s.Stop, "a create failed") {
		s.Stop += "; a create failed meanwhile: " + fl.failed.Error()
	}
	return nil
}

// createOne creates one sandbox of the fleet, timed.
func (f *fleet) createOne(ctx context.Context, s *Section, fl *filler) {
	t0 := time.Now()
	sb, err := f.srv.CreateIdle(ctx, s.Config.Template)
	d := time.Since(t0)
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if err != nil {
		if fl.failed == nil {
			fl.failed = err
		}
		return
	}
	f.add(sb)
	s.Create = append(s.Create, d)
	if n := len(s.Create); n%10 == 0 {
		fmt.Fprintf(os.Stderr, "\rdensity: %d running   ", n)
	}
}

// pauseAll pauses every sandbox, Batch at a time, and returns those
// paused.
func (s *Section) pauseAll(ctx context.Context, srv *server.Server, sbs []*client.Sandbox) ([]*client.Sandbox, error) {
	var mu sync.Mutex
	var paused []*client.Sandbox
	t := time.Now()
	forEach(ctx, len(sbs), s.Config.Batch, func(ctx context.Context, i int) {
		t0 := time.Now()
		_, err := srv.Client.Pause(ctx, sbs[i].ID)
		d := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if s.PauseFailed == "" {
				s.PauseFailed = err.Error()
			}
			return
		}
		paused = append(paused, sbs[i])
		s.Pause = append(s.Pause, d)
	})
	s.PauseTook = time.Since(t)
	s.Paused = len(paused)
	return paused, ctx.Err()
}
