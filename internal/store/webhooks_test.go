package store

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// addHook records a webhook of team for events.
func addHook(t *testing.T, s *Store, id, team string, events ...string) Webhook {
	t.Helper()
	w := Webhook{ID: id, TeamID: team, URL: "http://127.0.0.1:9/" + id, Events: events, Secret: "whsec_" + id, CreatedAt: time.Now()}
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

// move records sb's change to state for why.
func move(t *testing.T, s *Store, sb *sandbox.Sandbox, state sandbox.State, why string) {
	t.Helper()
	sb.State, sb.Why = state, why
	if err := s.UpdateSandbox(t.Context(), sb); err != nil {
		t.Fatal(err)
	}
}

// claimAll claims every due delivery, decoded, by webhook URL.
func claimAll(t *testing.T, s *Store) map[string][]wire.WebhookEvent {
	t.Helper()
	out, err := s.ClaimDeliveries(t.Context(), time.Now().Add(time.Second), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]wire.WebhookEvent{}
	for _, o := range out {
		var ev wire.WebhookEvent
		if err := json.Unmarshal(o.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID != o.EventID || ev.Type != o.Type {
			t.Errorf("outgoing %+v does not match its body %+v", o, ev)
		}
		got[o.URL] = append(got[o.URL], ev)
	}
	return got
}

func types(evs []wire.WebhookEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	slices.Sort(out)
	return out
}

// TestWebhookOutbox: a sandbox's events become deliveries to its team's
// webhooks that want their type, in the same transaction, with the
// sandbox's labels; another team's webhook hears nothing; a claimed
// delivery is not claimed again until its lease runs out.
func TestWebhookOutbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		s := withTeams(t, tdb)
		all := addHook(t, s, "wh_all", "team-a", wire.WebhookEventTypes...)
		some := addHook(t, s, "wh_some", "team-a", wire.WebhookPaused)
		other := addHook(t, s, "wh_other", "team-b", wire.WebhookEventTypes...)
		sb := newSandbox("team-a", "web", "10.0.0.2")
		sb.Labels = map[string]string{"app": "web"}
		if err := s.InsertSandbox(t.Context(), sb); err != nil {
			t.Fatal(err)
		}
		move(t, s, sb, sandbox.Running, "created")
		move(t, s, sb, sandbox.Pausing, "idle")
		move(t, s, sb, sandbox.Paused, "idle")
		if err := s.AddEvent(t.Context(), sb.ID, sandbox.Paused, "desktop ready"); err != nil {
			t.Fatal(err)
		}
		got := claimAll(t, s)
		if g := types(got[all.URL]); !slices.Equal(g, []string{"created", "paused"}) {
			t.Errorf("all events: %v", g)
		}
		if g := types(got[some.URL]); !slices.Equal(g, []string{"paused"}) {
			t.Errorf("paused only: %v", g)
		}
		if len(got[other.URL]) != 0 {
			t.Errorf("another team's webhook got %v", got[other.URL])
		}
		ev := got[some.URL][0]
		if ev.Team != "team-a" || ev.Sandbox == nil || ev.Sandbox.ID != sb.ID || ev.Sandbox.Labels["app"] != "web" || ev.Sandbox.Name != "web" ||
			ev.Data["from"] != "pausing" || ev.Data["reason"] != "idle" {
			t.Errorf("paused event: %+v", ev)
		}
		if again := claimAll(t, s); len(again) != 0 {
			t.Errorf("claimed twice within the lease: %v", again)
		}
		later, err := s.ClaimDeliveries(t.Context(), time.Now().Add(2*time.Minute), time.Minute, 100)
		if err != nil || len(later) != 3 {
			t.Errorf("after the lease: %d deliveries, %v; want 3", len(later), err)
		}
	})
}

// TestWebhookAttempts: attempts are logged with their outcome; a failure
// with a next time stays pending, a 2xx is delivered, a last failure
// fails; the log is the team's own.
func TestWebhookAttempts(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		s := withTeams(t, tdb)
		w := addHook(t, s, "wh_a", "team-a", wire.WebhookEventTypes...)
		if err := s.AddTeamEvent(t.Context(), "team-a", wire.WebhookLimit, map[string]any{"detail": "max-sandboxes"}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		out, err := s.ClaimDeliveries(t.Context(), now, time.Minute, 10)
		if err != nil || len(out) != 1 {
			t.Fatalf("claimed %v, %v", out, err)
		}
		id := out[0].DeliveryID
		if err := s.RecordAttempt(t.Context(), id, Attempt{N: 1, At: now, Status: 500, Error: "boom", Duration: 20 * time.Millisecond}, now.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if out, _ := s.ClaimDeliveries(t.Context(), now.Add(5*time.Second), time.Minute, 10); len(out) != 0 {
			t.Errorf("claimed before its retry: %v", out)
		}
		out, _ = s.ClaimDeliveries(t.Context(), now.Add(11*time.Second), time.Minute, 10)
		if len(out) != 1 || out[0].Attempts != 1 {
			t.Fatalf("retry: %+v", out)
		}
		if err := s.RecordAttempt(t.Context(), id, Attempt{N: 2, At: now.Add(11 * time.Second), Status: 204}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		log, err := s.Deliveries(t.Context(), "team-a", w.ID, 10)
		if err != nil || len(log) != 1 {
			t.Fatalf("log: %+v, %v", log, err)
		}
		d := log[0]
		if d.State != DeliveryDelivered || d.Type != wire.WebhookLimit || len(d.Attempts) != 2 || d.Attempts[0].Status != 500 ||
			d.Attempts[0].Error != "boom" || d.Attempts[0].Duration != 20*time.Millisecond || d.Attempts[1].Status != 204 || !d.NextAt.IsZero() {
			t.Errorf("delivery: %+v", d)
		}
		if _, err := s.Deliveries(t.Context(), "team-b", w.ID, 10); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("another team's log: %v", err)
		}
		if err := s.PruneDeliveries(t.Context(), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if log, _ := s.Deliveries(t.Context(), "team-a", w.ID, 10); len(log) != 0 {
			t.Errorf("pruned log: %+v", log)
		}
	})
}

// TestRemoveWebhook: a removed webhook's pending deliveries go with it,
// and another team cannot remove it.
func TestRemoveWebhook(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		s := withTeams(t, tdb)
		w := addHook(t, s, "wh_a", "team-a", wire.WebhookLimit)
		if err := s.AddTeamEvent(t.Context(), "team-a", wire.WebhookLimit, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteWebhook(t.Context(), "team-b", w.ID); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("another team's removal: %v", err)
		}
		if err := s.DeleteWebhook(t.Context(), "team-a", w.ID); err != nil {
			t.Fatal(err)
		}
		if got := claimAll(t, s); len(got) != 0 {
			t.Errorf("a removed webhook's delivery was claimed: %v", got)
		}
		if list, err := s.Webhooks(t.Context(), "team-a"); err != nil || len(list) != 0 {
			t.Errorf("webhooks: %v, %v", list, err)
		}
	})
}

// TestClaimsDoNotOverlap: workers claiming at once (several hosts on
// PostgreSQL) each get different deliveries.
func TestClaimsDoNotOverlap(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		s := withTeams(t, tdb)
		addHook(t, s, "wh_a", "team-a", wire.WebhookLimit)
		for range 40 {
			if err := s.AddTeamEvent(t.Context(), "team-a", wire.WebhookLimit, nil); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					out, err := s.ClaimDeliveries(t.Context(), time.Now(), time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(out) == 0 {
						return
					}
					mu.Lock()
					for _, o := range out {
						seen[o.DeliveryID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Errorf("%d deliveries claimed, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", id, n)
			}
		}
	})
}
