package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/store"
)

// fakeOutbox is an outbox in memory.
type fakeOutbox struct {
	mu       sync.Mutex
	pending  []store.Outgoing
	attempts map[string][]store.Attempt
	next     map[string]time.Time
	byID     map[string]store.Outgoing
	changed  chan struct{}
}

func (f *fakeOutbox) ClaimDeliveries(_ context.Context, now time.Time, _ time.Duration, limit int) ([]store.Outgoing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Outgoing
	for len(f.pending) > 0 && len(out) < limit {
		o := f.pending[0]
		if f.next[o.DeliveryID].After(now) {
			break
		}
		out, f.pending = append(out, o), f.pending[1:]
		f.byID[o.DeliveryID] = o
	}
	return out, nil
}

func (f *fakeOutbox) RecordAttempt(_ context.Context, id string, a store.Attempt, next time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[id] = append(f.attempts[id], a)
	if !next.IsZero() {
		f.next[id] = next
		o := f.byID[id]
		o.Attempts = a.N
		f.pending = append(f.pending, o)
	}
	return nil
}

func (f *fakeOutbox) PruneDeliveries(context.Context, time.Time) error { return nil }
func (f *fakeOutbox) Changed() <-chan struct{}                         { return f.changed }

func (f *fakeOutbox) log(id string) []store.Attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.Attempt(nil), f.attempts[id]...)
}

// TestWorkerDelivers: a delivery arrives signed and verifiable with its
// headers; a 500 is retried with backoff and each attempt logged; an
// address the guard refuses fails at once, not retried.
func TestWorkerDelivers(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	var verr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls++
		verr = wire.VerifyWebhook("s", r.Header.Get(wire.WebhookSignatureHeader), body, time.Minute, time.Now())
		if r.Header.Get(wire.WebhookEventIDHeader) != "evt_1" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers: %v", r.Header)
		}
		if calls < 3 {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	body, _ := json.Marshal(map[string]string{"id": "evt_1"})
	ob := &fakeOutbox{attempts: map[string][]store.Attempt{}, next: map[string]time.Time{}, byID: map[string]store.Outgoing{}, changed: make(chan struct{}),
		pending: []store.Outgoing{
			{DeliveryID: "dlv_1", EventID: "evt_1", Type: "created", URL: srv.URL, Secret: "s", Body: body},
			{DeliveryID: "dlv_meta", EventID: "evt_1", Type: "created", URL: "http://169.254.169.254/latest", Secret: "s", Body: body},
		}}
	w := New(Config{FirstRetry: 20 * time.Millisecond, Poll: 10 * time.Millisecond, Guard: Guard{AllowPrivate: true}}, ob,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go w.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for len(ob.log("dlv_1")) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	log := ob.log("dlv_1")
	if len(log) != 3 || log[0].Status != 500 || !strings.Contains(log[0].Error, "500") || !strings.Contains(log[0].Error, "not yet") ||
		log[1].N != 2 || log[2].Status != 204 || log[2].Error != "" {
		t.Errorf("attempts: %+v", log)
	}
	mu.Lock()
	if verr != nil {
		t.Errorf("signature: %v", verr)
	}
	mu.Unlock()
	meta := ob.log("dlv_meta")
	if len(meta) != 1 || meta[0].Status != 0 || !strings.Contains(meta[0].Error, "link-local") {
		t.Errorf("metadata address: %+v", meta)
	}
}
