package cluster

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// fakeStore records what a Member asks of the database.
type fakeStore struct {
	Store
	down      bool
	markLosts int
}

func (f *fakeStore) RenewLease(context.Context, string, time.Time, time.Time) (bool, error) {
	if f.down {
		return false, errors.New("database down")
	}
	return false, nil
}

func (f *fakeStore) MarkLost(context.Context, time.Time) ([]string, error) {
	f.markLosts++
	return nil, nil
}

// After the database was away, a node waits a whole lease of renewals
// before it judges the others lost: they could not renew either.
func TestMemberWaitsAfterAnOutage(t *testing.T) {
	st := &fakeStore{}
	now := time.Unix(1000, 0)
	m := NewMember(st, Node{Name: "a"}, 3*time.Second, slog.New(slog.DiscardHandler))
	m.now = func() time.Time { return now }
	m.healthy = now.Add(-time.Minute)
	m.beat(t.Context())
	if st.markLosts != 1 {
		t.Fatalf("a healthy node did not look for lost nodes")
	}
	st.down = true
	now = now.Add(time.Second)
	m.beat(t.Context())
	st.down = false
	for i := range 3 {
		now = now.Add(time.Second)
		m.beat(t.Context())
		if st.markLosts != 1 {
			t.Fatalf("%d s after the database came back, the node judged others lost", i)
		}
	}
	now = now.Add(time.Second)
	m.beat(t.Context())
	if st.markLosts != 2 {
		t.Errorf("a lease after the database came back, the node still does not look for lost nodes")
	}
}
