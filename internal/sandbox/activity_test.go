package sandbox

import (
	"sync"
	"testing"
	"time"
)

func TestActivityClaims(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	a := newActivity(now)

	// Not idle long enough, then in use: no claim.
	if a.claimIdle(now.Add(time.Second), 2*time.Second) {
		t.Fatal("claimed before the timeout")
	}
	a.begin(clock)
	if a.claimIdle(now.Add(time.Hour), time.Second) {
		t.Fatal("claimed while in use")
	}
	a.end(clock)
	if !a.claimIdle(now.Add(time.Hour), time.Second) {
		t.Fatal("no claim when idle")
	}
	if a.claimIdle(now.Add(time.Hour), time.Second) {
		t.Fatal("claimed twice")
	}

	// Work that arrives during the claim waits for its release, then runs.
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.begin(clock)
		close(started)
	}()
	select {
	case <-started:
		t.Fatal("work began while the sandbox was claimed for a pause")
	case <-time.After(50 * time.Millisecond):
	}
	a.release(now)
	<-started
	wg.Wait()
	if !a.busy() {
		t.Fatal("the work that waited is not counted")
	}
	if a.claimIdle(now.Add(time.Hour), time.Second) {
		t.Fatal("claimed while the waiting work runs")
	}
}
