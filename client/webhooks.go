package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/runtools/runtools/api/wire"
)

// Webhook is a URL the team's events are posted to. Secret, the key of
// its signatures, is set only in the answer that created it.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"`
}

// CreateWebhookRequest asks for a webhook; no Events means all of them
// (WebhookEventTypes).
type CreateWebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// WebhookDelivery is one event on its way to a webhook: pending (sent
// again at NextAttemptAt), delivered or failed, with every attempt.
type WebhookDelivery struct {
	ID            string           `json:"id"`
	EventID       string           `json:"event_id"`
	Type          string           `json:"type"`
	State         string           `json:"state"`
	CreatedAt     time.Time        `json:"created_at"`
	NextAttemptAt *time.Time       `json:"next_attempt_at,omitempty"`
	DoneAt        *time.Time       `json:"done_at,omitempty"`
	LastStatus    int              `json:"last_status,omitempty"`
	LastError     string           `json:"last_error,omitempty"`
	Attempts      []WebhookAttempt `json:"attempts"`
}

// WebhookAttempt is one try of a delivery: the receiver's HTTP status
// (0: no answer) or what went wrong, and how long it took.
type WebhookAttempt struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	Status     int       `json:"status,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// Webhook event types and delivery headers.
const (
	WebhookCreated         = wire.WebhookCreated
	WebhookPaused          = wire.WebhookPaused
	WebhookResumed         = wire.WebhookResumed
	WebhookDestroyed       = wire.WebhookDestroyed
	WebhookError           = wire.WebhookError
	WebhookTimeout         = wire.WebhookTimeout
	WebhookLimit           = wire.WebhookLimit
	WebhookSignatureHeader = wire.WebhookSignatureHeader
	WebhookEventIDHeader   = wire.WebhookEventIDHeader
)

// WebhookEventTypes lists every webhook event type.
var WebhookEventTypes = wire.WebhookEventTypes

// WebhookEvent is the JSON body of a webhook delivery.
type WebhookEvent = wire.WebhookEvent

// WebhookSandbox is the sandbox a webhook event is about.
type WebhookSandbox = wire.WebhookSandbox

// Errors of VerifyWebhook: a signature that does not match, or one made
// longer ago than the tolerance (a replay).
var (
	ErrWebhookSignature = wire.ErrWebhookSignature
	ErrWebhookTooOld    = wire.ErrWebhookTooOld
)

// WebhookTolerance is the replay window ParseWebhook allows.
const WebhookTolerance = 5 * time.Minute

// VerifyWebhook checks a delivery's Runtools-Signature header against its
// raw body with the webhook's secret, and that it was signed within
// tolerance of now.
func VerifyWebhook(secret, signature string, body []byte, tolerance time.Duration) error {
	return wire.VerifyWebhook(secret, signature, body, tolerance, time.Now())
}

// ParseWebhook reads a delivery's request (up to 1 MB), verifies it with
// the webhook's secret and a WebhookTolerance replay window, and decodes
// its event. A receiver answers 2xx quickly and drops an event ID
// (Runtools-Event-Id, also the event's ID) it has already handled: a
// delivery may come more than once.
func ParseWebhook(secret string, r *http.Request) (*WebhookEvent, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the webhook: %w", err)
	}
	if err := VerifyWebhook(secret, r.Header.Get(WebhookSignatureHeader), body, WebhookTolerance); err != nil {
		return nil, err
	}
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("decoding the webhook: %w", err)
	}
	return &ev, nil
}

// CreateWebhook adds a webhook for the team. The answer's Secret is shown
// this once: keep it to verify deliveries.
func (c *Client) CreateWebhook(ctx context.Context, req CreateWebhookRequest) (*Webhook, error) {
	var w Webhook
	err := c.call(ctx, http.MethodPost, "/v1/webhooks", nil, req, &w)
	return &w, err
}

// Webhooks lists the team's webhooks (without their secrets).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	return getList[Webhook](ctx, c, "/v1/webhooks", nil, "webhooks")
}

// RemoveWebhook removes a webhook; its pending deliveries are dropped.
func (c *Client) RemoveWebhook(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(id), nil, nil, nil)
}

// WebhookDeliveries returns a webhook's delivery log, newest first: at
// most limit deliveries (0: the server's default, 50).
func (c *Client) WebhookDeliveries(ctx context.Context, id string, limit int) ([]WebhookDelivery, error) {
	var q url.Values
	if limit > 0 {
		q = url.Values{"limit": {strconv.Itoa(limit)}}
	}
	return getList[WebhookDelivery](ctx, c, "/v1/webhooks/"+url.PathEscape(id)+"/deliveries", q, "deliveries")
}
