package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhook event types: what a webhook may subscribe to.
const (
	WebhookCreated   = "created"   // a sandbox is up and running
	WebhookPaused    = "paused"    // it was paused (by request, idle, or its timeout)
	WebhookResumed   = "resumed"   // it runs again after a pause
	WebhookDestroyed = "destroyed" // it is gone (data.reason says why)
	WebhookError     = "error"     // it crashed, failed to create or restore, or ended in the error state
	WebhookTimeout   = "timeout"   // its hard lifetime warns a minute ahead (data.phase "warning") or ran out ("expired")
	WebhookLimit     = "limit"     // it hit a resource limit, or a team quota refused a request
)

// WebhookEventTypes lists every webhook event type, in the order documented.
var WebhookEventTypes = []string{WebhookCreated, WebhookPaused, WebhookResumed, WebhookDestroyed, WebhookError, WebhookTimeout, WebhookLimit}

// Headers of a webhook delivery.
const (
	// WebhookSignatureHeader carries "t=UNIX,v1=HEX": HEX is the
	// HMAC-SHA256, keyed with the webhook's secret, of "UNIX.BODY".
	WebhookSignatureHeader = "Runtools-Signature"
	// WebhookEventIDHeader is the event's ID, the same on every retry of
	// it: receivers drop an ID they have already handled.
	WebhookEventIDHeader = "Runtools-Event-Id"
	// WebhookEventTypeHeader is the event's type.
	WebhookEventTypeHeader = "Runtools-Event-Type"
)

// WebhookEvent is the JSON body of a webhook delivery.
type WebhookEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Team      string          `json:"team"` // the team's ID
	Sandbox   *WebhookSandbox `json:"sandbox,omitempty"`
	// Data is what happened: from, to and reason of a sandbox's change;
	// phase and timeout_at of a timeout; the detail of a limit.
	Data map[string]any `json:"data"`
}

// WebhookSandbox is the sandbox a webhook event is about, as it was then.
type WebhookSandbox struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Template string            `json:"template"`
	State    string            `json:"state"`
	Labels   map[string]string `json:"labels"`
}

// SignWebhook returns the value of the Runtools-Signature header of a
// delivery of body at t with secret.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + webhookMAC(secret, ts, body)
}

func webhookMAC(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifyWebhook.
var (
	ErrWebhookSignature = errors.New("webhook signature does not match")
	ErrWebhookTooOld    = errors.New("webhook timestamp is outside the tolerance (a replay?)")
)

// VerifyWebhook checks a delivery: header is its Runtools-Signature, body
// the raw request body, secret the webhook's. The signature's timestamp
// must lie within tolerance of now (5 minutes is usual), which stops an
// old delivery being replayed; a receiver also drops event IDs it has
// seen. Any v1 signature may match (there may be several while a secret
// changes).
func VerifyWebhook(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: the header is not t=UNIX,v1=HEX", ErrWebhookSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %s ago", ErrWebhookTooOld, d.Round(time.Second))
	}
	want := webhookMAC(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrWebhookSignature
}
