// Package reuse is the address reuse check: whether a sandbox given the
// address of one destroyed just before is reachable without the bench's
// help, which deletes the host's stale neighbour entry after each destroy.
package reuse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/section"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/client"
)

// Config is what the section is told.
type Config struct {
	Template string
}

// Section is the address reuse check.
type Section struct {
	Config  Config
	Verdict string // PASS, MISS or N/A
	Detail  string
}

var _ section.Section = (*Section)(nil)

// wait is how long the new sandbox gets to come up before the bench helps.
const wait = 3 * time.Second

// Name is "reuse".
func (s *Section) Name() string { return "reuse" }

// Run runs the check.
func (s *Section) Run(ctx context.Context, env *section.Env) error {
	fmt.Fprintln(os.Stderr, "address reuse check")
	if err := s.check(ctx, env.Server); err != nil {
		return fmt.Errorf("address reuse check: %w", err)
	}
	return nil
}

// check creates a sandbox that gets the address of one destroyed just
// before, while another sandbox keeps the bridge up, and sees whether it
// becomes reachable on its own. If Create has not returned after wait, it
// deletes the host's neighbor entry for the address, which lets Create
// finish, and reports the miss.
func (s *Section) check(ctx context.Context, srv *server.Server) error {
	c := srv.Client
	a, err := c.Create(ctx, client.CreateRequest{Template: s.Config.Template})
	if err != nil {
		return fmt.Errorf("creating the first sandbox: %w", err)
	}
	// The exec makes the host's neighbor entry for a's address fresh.
	if err := srv.ExecTrue(ctx, a.ID); err != nil {
		return errors.Join(err, srv.Destroy(ctx, a))
	}
	if err := c.Destroy(ctx, a.ID); err != nil { // without ForgetNeighbor, as users do
		return fmt.Errorf("destroying %s: %w", a.ID, err)
	}
	b, took, helped, err := createHelped(ctx, srv, s.Config.Template, a.IP)
	if err != nil {
		return fmt.Errorf("creating the second sandbox: %w", err)
	}
	if err := srv.Destroy(ctx, b); err != nil {
		return err
	}
	switch {
	case b.IP != a.IP:
		s.Verdict, s.Detail = "N/A", fmt.Sprintf("the new sandbox got %s, not the freed %s", b.IP, a.IP)
	case helped:
		s.Verdict, s.Detail = "MISS", fmt.Sprintf("Create of a sandbox given the just-freed %s had not returned after %s; "+
			"the bench then deleted the host's neighbor entry for %s (still the destroyed sandbox's MAC) and Create returned %s after it began",
			a.IP, wait, a.IP, report.MS(took))
	default:
		s.Verdict, s.Detail = "PASS", fmt.Sprintf("a sandbox given the just-freed %s was created in %s", a.IP, report.MS(took))
	}
	return nil
}

// createHelped creates a sandbox, and if Create has not returned after
// wait, deletes the host's neighbor entry for ip; it says how long Create
// took and whether it needed that help.
func createHelped(ctx context.Context, srv *server.Server, template, ip string) (*client.Sandbox, time.Duration, bool, error) {
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
			_ = srv.ForgetNeighbor(context.WithoutCancel(ctx), ip)
		}
	})
	t := time.Now()
	b, err := srv.Client.Create(ctx, client.CreateRequest{Template: template})
	took := time.Since(t)
	close(done)
	wg.Wait()
	return b, took, helped.Load(), err
}
