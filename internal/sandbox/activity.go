package sandbox

import (
	"sync"
	"time"
)

// activity tracks what is using one sandbox, so that an idle sandbox can be
// paused without ever pausing one that is in use.
//
// Every use (an exec, a file call, later a proxied request or an SSH
// session) runs between begin and end. A pause first claims the sandbox:
// the claim succeeds only if nothing is in flight and nothing happened for
// the idle timeout, and both are checked under the same lock that begin
// takes. While a claim is held, begin waits; once the pause is over it
// proceeds and finds the sandbox paused, and wakes it. So work that
// arrives as the idle timer fires is never lost: it either keeps the pause
// from happening or waits for it and then resumes the sandbox.
type activity struct {
	mu       sync.Mutex
	cond     sync.Cond
	inflight int
	last     time.Time
	claimed  bool
}

func newActivity(now time.Time) *activity {
	a := &activity{last: now}
	a.cond.L = &a.mu
	return a
}

// begin marks the start of a use, waiting out a pause in progress.
func (a *activity) begin(now func() time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.claimed {
		a.cond.Wait()
	}
	a.inflight++
	a.last = now()
}

// end marks the end of a use.
func (a *activity) end(now func() time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight--
	a.last = now()
}

// touch records activity that has no duration (CPU use seen by the meter).
func (a *activity) touch(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.After(a.last) {
		a.last = now
	}
}

// claimIdle claims the sandbox for an idle pause if it has been idle for
// at least timeout and nothing is in flight.
func (a *activity) claimIdle(now time.Time, timeout time.Duration) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.claimed || a.inflight > 0 || now.Sub(a.last) < timeout {
		return false
	}
	a.claimed = true
	return true
}

// claim claims the sandbox for an operation that must not overlap new
// uses (an explicit pause), waiting for another claim to end. Uses already
// in flight are not waited for.
func (a *activity) claim() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.claimed {
		a.cond.Wait()
	}
	a.claimed = true
}

// release ends a claim and lets waiting uses proceed.
func (a *activity) release(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.claimed = false
	a.last = now
	a.cond.Broadcast()
}

// busy reports whether anything is in flight.
func (a *activity) busy() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inflight > 0
}
