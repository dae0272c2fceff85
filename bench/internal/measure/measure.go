// Package measure runs trials round-robin over the systems compared, so
// that background noise and cache effects fall on all of them alike, every
// trial after the same idle gap, and collects what each system measured.
package measure

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
)

// The names of the systems most sections compare, as the tables show them.
const (
	Runtools = "runtools (Go SDK)"
	RawNet   = "raw runsc + netns"
	Podman   = "podman + runsc"
)

// SettleTime is the idle gap before every trial, so that what one system
// leaves running for a moment after its trial (podman's conmon, a runsc
// process exiting, a sandbox's reaper) does not land on the next system's
// measurement. Every system gets the same gap. The -settle flag sets it
// before anything runs.
var SettleTime = 50 * time.Millisecond

// Settle waits the idle gap, or until ctx is done.
func Settle(ctx context.Context) error { return Sleep(ctx, SettleTime) }

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Progress shows on stderr which round has finished.
func Progress(what string, round, warmup, runs int) {
	if round < 0 {
		fmt.Fprintf(os.Stderr, "\r%s: warm-up %d/%d   ", what, round+warmup+1, warmup)
		return
	}
	fmt.Fprintf(os.Stderr, "\r%s: round %d/%d   ", what, round+1, runs)
	if round+1 == runs {
		fmt.Fprintln(os.Stderr)
	}
}

// Result is what one system measured.
type Result struct {
	Name     string
	Samples  stats.Samples
	Phases   stats.PhaseSet
	Teardown stats.Samples
	Dropped  string // why the system was dropped, if it was
}

// Find returns the result named name, or nil if it is missing, dropped or
// has no samples.
func Find(rs []*Result, name string) *Result {
	for _, r := range rs {
		if r.Name == name && r.Dropped == "" && len(r.Samples) > 0 {
			return r
		}
	}
	return nil
}

// FindCycle returns the result named name, or nil if it is missing,
// dropped or measured no phases.
func FindCycle(rs []*Result, name string) *Result {
	for _, r := range rs {
		if r.Name == name && r.Dropped == "" && len(r.Phases.Names) > 0 {
			return r
		}
	}
	return nil
}

// Has reports whether rs has a result named name, dropped or not.
func Has(rs []*Result, name string) bool {
	for _, r := range rs {
		if r.Name == name {
			return true
		}
	}
	return false
}

// P50 is the p50 of rs's result named name; 0 if there is none.
func P50(rs []*Result, name string) time.Duration {
	if r := Find(rs, name); r != nil {
		return r.Samples.P50()
	}
	return 0
}

// PhaseP50 is the p50 of phase in system's results of rs, dropped or not
// found results counting 0.
func PhaseP50(rs []*Result, system, phase string) time.Duration {
	if r := FindCycle(rs, system); r != nil {
		return r.Phases.P50(phase)
	}
	return 0
}
