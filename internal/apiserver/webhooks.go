package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/webhook"
)

// Webhooks stores the teams' webhooks and their delivery logs.
type Webhooks interface {
	CreateWebhook(ctx context.Context, w store.Webhook) error
	Webhooks(ctx context.Context, teamID string) ([]store.Webhook, error)
	DeleteWebhook(ctx context.Context, teamID, id string) error
	Deliveries(ctx context.Context, teamID, webhookID string, limit int) ([]store.Delivery, error)
}

// maxWebhooks is how many webhooks a team may have.
const maxWebhooks = 20

// SetWebhooks serves the teams' webhooks from hooks; guard says which
// literal addresses a webhook's URL may not name.
func (s *Server) SetWebhooks(hooks Webhooks, guard webhook.Guard) {
	s.webhooks, s.webhookGuard = hooks, guard
}

func (s *Server) webhookStore() (Webhooks, error) {
	if s.webhooks == nil {
		return nil, fmt.Errorf("%w: this server delivers no webhooks", errdefs.ErrUnavailable)
	}
	return s.webhooks, nil
}

func wireWebhook(w store.Webhook) client.Webhook {
	return client.Webhook{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: w.CreatedAt}
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateWebhookRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := webhook.ValidateURL(req.URL, s.webhookGuard); err != nil {
		return err
	}
	events, err := webhook.ParseEvents(req.Events)
	if err != nil {
		return err
	}
	hooks, err := s.webhookStore()
	if err != nil {
		return err
	}
	team := identity(r.Context()).TeamID
	if list, err := hooks.Webhooks(r.Context(), team); err != nil {
		return err
	} else if len(list) >= maxWebhooks {
		return fmt.Errorf("%w: the team has %d webhooks, the most it may have; remove one first (runtools webhook rm ID)", errdefs.ErrResourceExhausted, len(list))
	}
	h := store.Webhook{ID: "wh_" + auth.Random(12), TeamID: team, URL: req.URL, Events: events,
		Secret: "whsec_" + auth.Random(32), CreatedAt: s.now().UTC()}
	if err := hooks.CreateWebhook(r.Context(), h); err != nil {
		return err
	}
	out := wireWebhook(h)
	out.Secret = h.Secret // this once
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := s.webhookStore()
	if err != nil {
		return err
	}
	list, err := hooks.Webhooks(r.Context(), identity(r.Context()).TeamID)
	if err != nil {
		return err
	}
	return writeList(w, "webhooks", list, wireWebhook)
}

func (s *Server) removeWebhook(w http.ResponseWriter, r *http.Request) error {
	hooks, err := s.webhookStore()
	if err != nil {
		return err
	}
	if err := hooks.DeleteWebhook(r.Context(), identity(r.Context()).TeamID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return invalid("limit must be a number from 1 to 500, got %q", v)
		}
		limit = n
	}
	hooks, err := s.webhookStore()
	if err != nil {
		return err
	}
	list, err := hooks.Deliveries(r.Context(), identity(r.Context()).TeamID, r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	return writeList(w, "deliveries", list, wireDelivery)
}

func wireDelivery(d store.Delivery) client.WebhookDelivery {
	out := client.WebhookDelivery{ID: d.ID, EventID: d.EventID, Type: d.Type, State: d.State, CreatedAt: d.CreatedAt,
		NextAttemptAt: timePtr(d.NextAt), DoneAt: timePtr(d.DoneAt), LastStatus: d.LastStatus, LastError: d.LastError,
		Attempts: make([]client.WebhookAttempt, 0, len(d.Attempts))}
	for _, a := range d.Attempts {
		out.Attempts = append(out.Attempts, client.WebhookAttempt{N: a.N, At: a.At, Status: a.Status, Error: a.Error,
			DurationMS: a.Duration.Milliseconds()})
	}
	return out
}
