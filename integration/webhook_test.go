package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// receiver is a webhook receiver in the test process: it verifies every
// delivery with its webhook's secret and keeps what arrived.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret map[string]string // by path
	got    map[string][]client.WebhookEvent
	tries  map[string]int // attempts by event ID
	bad    int            // deliveries that did not verify
	// fail answers 500 to the first attempts of an event of this type;
	// hang holds every request until released (closed).
	fail     string
	failN    int
	hang     chan struct{}
	inflight chan string // event IDs of held requests
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, secret: map[string]string{}, got: map[string][]client.WebhookEvent{}, tries: map[string]int{}, inflight: make(chan string, 16)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret, hang := r.secret[req.URL.Path], r.hang
	id := req.Header.Get(client.WebhookEventIDHeader)
	r.tries[id]++
	r.mu.Unlock()
	if hang != nil {
		r.inflight <- id
		<-hang
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	ev, err := client.ParseWebhook(secret, req)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || ev.ID != id {
		r.bad++
		r.t.Errorf("a delivery to %s does not verify: %v (event %q, header %q)", req.URL.Path, err, ev.ID, id)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if ev.Type == r.fail && r.tries[id] <= r.failN {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	for _, seen := range r.got[req.URL.Path] {
		if seen.ID == ev.ID {
			w.WriteHeader(http.StatusNoContent) // a retry of one handled: dropped
			return
		}
	}
	r.got[req.URL.Path] = append(r.got[req.URL.Path], *ev)
	w.WriteHeader(http.StatusNoContent)
}

// wait returns the first event at path of type typ about sandbox sb
// ("" for any), failing the test after d.
func (r *receiver) wait(path, typ, sb string, d time.Duration) client.WebhookEvent {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, ev := range r.got[path] {
			if ev.Type == typ && (sb == "" || ev.Sandbox != nil && ev.Sandbox.ID == sb) {
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.Fatalf("no %s event of %q at %s within %s; got %+v", typ, sb, path, d, r.got[path])
	return client.WebhookEvent{}
}

// add adds a webhook at path of the receiver through the CLI with key.
func (r *receiver) add(s *server, key, path string, args ...string) client.Webhook {
	r.t.Helper()
	cmd := append([]string{"--api-key", key, "webhook", "add", r.srv.URL + path, "-o", "json"}, args...)
	out, stderr, code := s.cli(r.t, "", cmd...)
	var h client.Webhook
	if code != 0 || json.Unmarshal([]byte(out), &h) != nil || h.Secret == "" {
		r.t.Fatalf("webhook add: %d %s %s", code, out, stderr)
	}
	r.mu.Lock()
	r.secret[path] = h.Secret
	r.mu.Unlock()
	return h
}

// TestWebhooks: a team's sandbox events reach its webhook signed and
// verifiable, with the sandbox's labels; a receiver answering 500 gets
// the event again, and the delivery log shows each attempt; an event
// whose delivery a SIGKILL interrupted is delivered after the restart;
// another team's events never reach the webhook; timeouts are events.
func TestWebhooks(t *testing.T) {
	s := startServer(t, "--webhook-first-retry", "1s", "--webhook-timeout", "2s")
	ctx := ctxT(t, 5*time.Minute)
	r := newReceiver(t)
	if _, stderr, code := s.cli(t, "", "webhook", "add", "http://169.254.169.254/latest"); code == 0 || !strings.Contains(stderr, "link-local") {
		t.Errorf("a metadata URL: exit %d, %s", code, stderr)
	}
	if _, stderr, code := s.cli(t, "", "webhook", "add", r.srv.URL, "--events", "created,crashed"); code == 0 || !strings.Contains(stderr, "destroyed, error, timeout, limit") {
		t.Errorf("an unknown event: exit %d, %s", code, stderr)
	}
	hook := r.add(s, s.key, "/a")
	r.fail, r.failN = client.WebhookCreated, 2
	other := otherTeam(t, s, r)

	sb := create(t, s, client.CreateRequest{Labels: map[string]string{"suite": "webhooks"}})
	created := r.wait("/a", client.WebhookCreated, sb.ID, time.Minute)
	if created.Sandbox.Labels["suite"] != "webhooks" || created.Sandbox.State != "running" || created.Team == "" {
		t.Errorf("created event: %+v", created)
	}
	checkAttempts(t, s, hook.ID, created.ID, []int{500, 500, 204})
	if _, err := s.client().Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	r.wait("/a", client.WebhookPaused, sb.ID, time.Minute)
	if _, err := s.client().Resume(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	r.wait("/a", client.WebhookResumed, sb.ID, time.Minute)
	r.wait("/other", client.WebhookCreated, other, time.Minute) // nothing else is on its way

	killMidDelivery(t, s, r, sb.ID)

	short := create(t, s, client.CreateRequest{Timeout: 4, Labels: map[string]string{"suite": "webhooks"}})
	if ev := r.wait("/a", client.WebhookTimeout, short.ID, time.Minute); ev.Data["phase"] != "warning" || ev.Data["timeout_at"] == nil {
		t.Errorf("timeout warning: %+v", ev)
	}
	r.wait("/a", client.WebhookDestroyed, short.ID, time.Minute)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.got["/a"] {
		if ev.Sandbox != nil && ev.Sandbox.ID == other {
			t.Errorf("team a's webhook got team b's event %+v", ev)
		}
	}
}

// otherTeam makes a second team with its own webhook at /other of r and
// a sandbox, and returns the sandbox's ID.
func otherTeam(t *testing.T, s *server, r *receiver) string {
	ctx := ctxT(t, 2*time.Minute)
	if _, err := s.client().CreateTeam(ctx, "hooks-other"); err != nil {
		t.Fatal(err)
	}
	key, err := s.client().CreateKey(ctx, client.CreateKeyRequest{Name: "other", Team: "hooks-other"})
	if err != nil {
		t.Fatal(err)
	}
	h := r.add(s, key.Secret, "/other", "--events", "created")
	c := s.clientWithKey(key.Secret)
	if _, err := s.client().WebhookDeliveries(ctx, h.ID, 0); err == nil {
		t.Error("team a reads team b's delivery log")
	}
	sb, err := c.Create(ctx, client.CreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Destroy(ctxT(t, time.Minute), sb.ID) })
	return sb.ID
}

// checkAttempts waits until the webhook's delivery of event has the
// statuses want, from the CLI's delivery log.
func checkAttempts(t *testing.T, s *server, hook, event string, want []int) {
	t.Helper()
	var got []int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, stderr, code := s.cli(t, "", "webhook", "deliveries", hook, "-o", "json")
		var list []client.WebhookDelivery
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
			t.Fatalf("webhook deliveries: %d %s %s", code, out, stderr)
		}
		for _, d := range list {
			if d.EventID != event {
				continue
			}
			got = got[:0]
			for _, a := range d.Attempts {
				got = append(got, a.Status)
			}
			if d.State == "delivered" && len(got) == len(want) {
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("attempts of %s: %v, want %v", event, got, want)
					}
				}
				return
			}
		}
	}
	t.Errorf("attempts of %s: %v, want %v, delivered", event, got, want)
}

// killMidDelivery destroys sb while the receiver holds every request,
// SIGKILLs the server while the destroyed event's delivery is in flight,
// and checks that the same event is delivered after the restart.
func killMidDelivery(t *testing.T, s *server, r *receiver, sb string) {
	r.mu.Lock()
	r.hang = make(chan struct{})
	r.mu.Unlock()
	if err := s.client().Destroy(ctxT(t, time.Minute), sb); err != nil {
		t.Fatal(err)
	}
	var held string
	select {
	case held = <-r.inflight:
	case <-time.After(30 * time.Second):
		t.Fatal("the destroyed event was not sent")
	}
	s.kill()
	r.mu.Lock()
	close(r.hang)
	r.hang = nil
	r.mu.Unlock()
	s.start()
	ev := r.wait("/a", client.WebhookDestroyed, sb, time.Minute)
	if ev.ID != held || ev.Data["reason"] != "destroyed" {
		t.Errorf("after the restart: %+v, want the event %s held when the server was killed", ev, held)
	}
}
