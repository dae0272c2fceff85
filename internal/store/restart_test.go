package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// PostgreSQL stops and starts again under a loop of writes: while it is
// down, writes fail as errdefs.ErrUnavailable; after, they work again;
// and every write that succeeded is there.
func TestPostgresRestart(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := t.Context()
	s, err := OpenPostgres(ctx, pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateTeam(ctx, auth.Team{ID: "team-a", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w := &writer{s: s}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { w.loop(t, stop) })
	w.waitFor(t, func() bool { return w.ok >= 20 }, "writes before the restart")
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, func() bool { return len(w.failed) >= 5 }, "writes failing while PostgreSQL is down")
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	okBefore := w.countOK()
	w.waitFor(t, func() bool { return w.ok >= okBefore+20 }, "writes after the restart")
	close(stop)
	wg.Wait()

	for _, err := range w.failed {
		if !errors.Is(err, errdefs.ErrUnavailable) {
			t.Errorf("a write failed with %v, want unavailable", err)
		}
	}
	t.Logf("%d writes, %d failed around the restart; the first failure: %v; the last: %v",
		len(w.written)+len(w.failed), len(w.failed), w.failed[0], w.failed[len(w.failed)-1])
	for _, id := range w.written {
		if _, err := s.GetSandbox(ctx, id); err != nil {
			t.Errorf("sandbox %s, recorded before or after the restart: %v", id, err)
		}
	}
}

// writer records sandboxes in a loop, keeping what succeeded and failed.
type writer struct {
	s       *Store
	mu      sync.Mutex
	ok      int
	written []string // IDs recorded
	failed  []error
}

func (w *writer) loop(t *testing.T, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		sb := newSandbox("team-a", "", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		err := w.s.InsertSandbox(t.Context(), sb)
		w.mu.Lock()
		if err != nil {
			w.failed = append(w.failed, err)
		} else {
			w.ok++
			w.written = append(w.written, sb.ID)
		}
		w.mu.Unlock()
	}
}

func (w *writer) countOK() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ok
}

// waitFor waits until cond, called with w locked, holds.
func (w *writer) waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		w.mu.Lock()
		done, ok, failed := cond(), w.ok, len(w.failed)
		w.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %d writes succeeded, %d failed", what, ok, failed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
