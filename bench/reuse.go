package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runtools/runtools/client"
)

// reuseCheck is the outcome of checkAddressReuse.
type reuseCheck struct {
	verdict string // PASS, MISS or N/A
	detail  string
}

// checkAddressReuse creates a sandbox that gets the address of one
// destroyed just before, while another sandbox keeps the bridge up, and
// sees whether it becomes reachable on its own. If Create has not returned
// after wait, it deletes the host's neighbor entry for the address, which
// lets Create finish, and reports the miss.
func (s *server) checkAddressReuse(ctx context.Context, template string, wait time.Duration) (reuseCheck, error) {
	a, err := s.c.Create(ctx, client.CreateRequest{Template: template})
	if err != nil {
		return reuseCheck{}, fmt.Errorf("creating the first sandbox: %w", err)
	}
	// The exec makes the host's neighbor entry for a's address fresh.
	if err := s.execTrue(ctx, a.ID); err != nil {
		return reuseCheck{}, errors.Join(err, s.destroy(ctx, a))
	}
	if err := s.c.Destroy(ctx, a.ID); err != nil { // without forgetNeighbor, as users do
		return reuseCheck{}, fmt.Errorf("destroying %s: %w", a.ID, err)
	}
	var (
		helped atomic.Bool
		wg     sync.WaitGroup
		done   = make(chan struct{})
	)
	wg.Go(func() {
		select {
		case <-done:
		case <-time.After(wait):
			helped.Store(true)
			_ = s.forgetNeighbor(context.WithoutCancel(ctx), a.IP)
		}
	})
	t := time.Now()
	b, err := s.c.Create(ctx, client.CreateRequest{Template: template})
	took := time.Since(t)
	close(done)
	wg.Wait()
	if err != nil {
		return reuseCheck{}, fmt.Errorf("creating the second sandbox: %w", err)
	}
	if err := s.destroy(ctx, b); err != nil {
		return reuseCheck{}, err
	}
	switch {
	case b.IP != a.IP:
		return reuseCheck{"N/A", fmt.Sprintf("the new sandbox got %s, not the freed %s", b.IP, a.IP)}, nil
	case helped.Load():
		return reuseCheck{"MISS", fmt.Sprintf("Create of a sandbox given the just-freed %s had not returned after %s; "+
			"the bench then deleted the host's neighbor entry for %s (still the destroyed sandbox's MAC) and Create returned %s after it began",
			a.IP, wait, a.IP, ms(took))}, nil
	}
	return reuseCheck{"PASS", fmt.Sprintf("a sandbox given the just-freed %s was created in %s", a.IP, ms(took))}, nil
}
