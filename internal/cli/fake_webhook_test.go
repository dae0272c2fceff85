package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/runtools/runtools/client"
)

// The fake server's webhook routes.
func (f *fake) webhookRoutes(route func(string, func(http.ResponseWriter, *http.Request) error)) {
	route("POST /v1/webhooks", func(w http.ResponseWriter, r *http.Request) error {
		var in client.CreateWebhookRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return invalid("bad JSON: %v", err)
		}
		if len(in.Events) == 0 {
			in.Events = client.WebhookEventTypes
		}
		h := client.Webhook{ID: fmt.Sprintf("wh_%d", len(f.webhooks)+1), URL: in.URL, Events: in.Events, CreatedAt: testNow}
		f.webhooks = append(f.webhooks, h)
		h.Secret = "whsec_0123456789"
		w.WriteHeader(http.StatusCreated)
		return json.NewEncoder(w).Encode(h)
	})
	route("GET /v1/webhooks", func(w http.ResponseWriter, r *http.Request) error {
		return reply(w, map[string]any{"webhooks": f.webhooks})
	})
	route("DELETE /v1/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) error {
		for i, h := range f.webhooks {
			if h.ID == r.PathValue("id") {
				f.webhooks = append(f.webhooks[:i], f.webhooks[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
		}
		return notFound("no webhook %q", r.PathValue("id"))
	})
	route("GET /v1/webhooks/{id}/deliveries", func(w http.ResponseWriter, r *http.Request) error {
		next := testNow.Add(40 * time.Second)
		return reply(w, map[string]any{"deliveries": []client.WebhookDelivery{
			{ID: "dlv_2", EventID: "evt_2", Type: "paused", State: "pending", CreatedAt: testNow.Add(-time.Minute), NextAttemptAt: &next,
				LastStatus: 500, LastError: "the receiver answered 500 Internal Server Error",
				Attempts: []client.WebhookAttempt{{N: 1, At: testNow.Add(-time.Minute), Status: 500, Error: "the receiver answered 500 Internal Server Error", DurationMS: 12}}},
			{ID: "dlv_1", EventID: "evt_1", Type: "created", State: "delivered", CreatedAt: testNow.Add(-time.Hour),
				LastStatus: 204, Attempts: []client.WebhookAttempt{{N: 1, At: testNow.Add(-time.Hour), Status: 204, DurationMS: 3}}},
		}})
	})
}
