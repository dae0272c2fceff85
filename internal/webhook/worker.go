package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/store"
)

// Store is the outbox the worker sends.
type Store interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Outgoing, error)
	RecordAttempt(ctx context.Context, deliveryID string, a store.Attempt, next time.Time) error
	PruneDeliveries(ctx context.Context, cutoff time.Time) error
	// Changed is closed at the next write of an event (and so of a
	// delivery): the worker need not wait for its next poll.
	Changed() <-chan struct{}
}

// Config tunes the worker; zero values take the defaults.
type Config struct {
	Timeout     time.Duration // one request at most; default 10s
	FirstRetry  time.Duration // wait after the first failure, doubling (Backoff); default 10s
	MaxAttempts int           // attempts before a delivery fails; default 17 (about a day with a 10s first retry)
	Parallel    int           // deliveries sent at once; default 8
	Poll        time.Duration // how often the outbox is read besides when events come; default 1s
	Retention   time.Duration // how long finished deliveries stay in the log; default 7 days
	Guard       Guard
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Timeout, 10*time.Second)
	def(&c.FirstRetry, 10*time.Second)
	def(&c.Poll, time.Second)
	def(&c.Retention, 7*24*time.Hour)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 17
	}
	if c.Parallel <= 0 {
		c.Parallel = 8
	}
}

// Worker sends the outbox's deliveries.
type Worker struct {
	cfg  Config
	st   Store
	log  *slog.Logger
	http *http.Client
	now  func() time.Time
}

// New returns a worker; Run starts it.
func New(cfg Config, st Store, log *slog.Logger) *Worker {
	cfg.setDefaults()
	d := &net.Dialer{Timeout: cfg.Timeout, Control: cfg.Guard.control}
	tr := &http.Transport{
		Proxy:               nil, // the guard checks the receiver's address, not a proxy's
		DialContext:         d.DialContext,
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
	}
	return &Worker{cfg: cfg, st: st, log: log.With("component", "webhooks"), now: time.Now, http: &http.Client{
		Transport: tr,
		// A redirect is an answer, not a delivery: following it would
		// lead the signed body (and the guard) elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Run sends due deliveries until ctx ends; deliveries under way then are
// sent again after a restart (their claim runs out).
func (w *Worker) Run(ctx context.Context) {
	slots := make(chan struct{}, w.cfg.Parallel)
	lastPrune := time.Time{}
	for {
		changed := w.st.Changed()
		if w.now().Sub(lastPrune) > time.Hour {
			lastPrune = w.now()
			if err := w.st.PruneDeliveries(ctx, w.now().Add(-w.cfg.Retention)); err != nil {
				w.log.Warn("pruning the delivery log", "err", err)
			}
		}
		free := w.cfg.Parallel - len(slots)
		if free > 0 {
			out, err := w.st.ClaimDeliveries(ctx, w.now(), w.cfg.Timeout+10*time.Second, free)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("reading the webhook outbox", "err", err)
			}
			for _, o := range out {
				slots <- struct{}{}
				go func() {
					defer func() { <-slots }()
					w.deliver(ctx, o)
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(w.cfg.Poll):
		}
	}
}

// deliver makes one attempt of o and records it.
func (w *Worker) deliver(ctx context.Context, o store.Outgoing) {
	a := store.Attempt{N: o.Attempts + 1, At: w.now().UTC()}
	status, err := w.send(ctx, o, a.N)
	a.Duration, a.Status = w.now().Sub(a.At), status
	if ctx.Err() != nil {
		return // shutting down: the claim runs out and it is sent after the restart
	}
	var next time.Time
	log := w.log.With("delivery", o.DeliveryID, "event", o.EventID, "type", o.Type, "url", o.URL, "attempt", a.N)
	switch {
	case err == nil:
		log.Debug("webhook delivered", "status", status, "duration", a.Duration)
	case errors.Is(err, ErrRefused):
		a.Error = err.Error()
		log.Error("webhook delivery refused; it is not retried", "err", err)
	case a.N >= w.cfg.MaxAttempts:
		a.Error = err.Error()
		log.Warn("webhook delivery failed for the last time", "err", err)
	default:
		a.Error = err.Error()
		d := Backoff(a.N, w.cfg.FirstRetry)
		d += rand.N(d/10 + 1) // spread retries of many deliveries
		next = a.At.Add(a.Duration + d)
		log.Info("webhook delivery failed; retrying", "err", err, "retry_in", d.Round(time.Second))
	}
	if err := w.st.RecordAttempt(ctx, o.DeliveryID, a, next); err != nil {
		log.Warn("recording a webhook attempt", "err", err)
	}
}

// send posts o's body, signed now, and returns the answer's status; an
// error unless it is 2xx.
func (w *Worker) send(ctx context.Context, o store.Outgoing, attempt int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL, bytes.NewReader(o.Body))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "runtools-webhooks/1")
	req.Header.Set(wire.WebhookSignatureHeader, wire.SignWebhook(o.Secret, w.now(), o.Body))
	req.Header.Set(wire.WebhookEventIDHeader, o.EventID)
	req.Header.Set(wire.WebhookEventTypeHeader, o.Type)
	req.Header.Set("Runtools-Delivery-Attempt", strconv.Itoa(attempt))
	resp, err := w.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("the receiver answered %s", resp.Status)
		if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")); s != "" {
			msg += ": " + s
		}
		return resp.StatusCode, errors.New(msg)
	}
	return resp.StatusCode, nil
}
