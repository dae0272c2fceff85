// Package webhook checks what a webhook may be (its URL and event types)
// and runs the delivery worker: it sends the store's outbox of webhook
// events, signed (wire.SignWebhook), retries failures with exponential
// backoff for about a day, and logs every attempt. It refuses to connect
// to link-local and metadata addresses, so the daemon relays nothing to a
// cloud's metadata service.
package webhook

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/errdefs"
)

// ParseEvents reads a list of event types ("created,paused"); none means
// every type. Each is checked and each appears once, in the documented
// order.
func ParseEvents(list []string) ([]string, error) {
	if len(list) == 0 {
		return slices.Clone(wire.WebhookEventTypes), nil
	}
	var out []string
	for _, e := range list {
		e = strings.TrimSpace(e)
		if !slices.Contains(wire.WebhookEventTypes, e) {
			return nil, fmt.Errorf("%w: unknown webhook event %q; the events are %s", errdefs.ErrInvalidArgument, e, strings.Join(wire.WebhookEventTypes, ", "))
		}
		out = append(out, e)
	}
	return slices.DeleteFunc(slices.Clone(wire.WebhookEventTypes), func(e string) bool { return !slices.Contains(out, e) }), nil
}

// ValidateURL checks a webhook's URL: absolute http or https with a host,
// no user:password, and not an address deliveries are refused (see
// Guard); a host name is checked again at each delivery, once resolved.
func ValidateURL(raw string, g Guard) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: webhook URL %q: %v", errdefs.ErrInvalidArgument, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: webhook URL %q must start with http:// or https://", errdefs.ErrInvalidArgument, raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: webhook URL %q has no host", errdefs.ErrInvalidArgument, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: webhook URL %q carries a user or password; deliveries are signed instead (verify the Runtools-Signature header)", errdefs.ErrInvalidArgument, raw)
	}
	if len(raw) > 2048 {
		return fmt.Errorf("%w: webhook URL is longer than 2048 bytes", errdefs.ErrInvalidArgument)
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := g.Check(ip); err != nil {
			return fmt.Errorf("%w: webhook URL %q: %v", errdefs.ErrInvalidArgument, raw, err)
		}
	}
	return nil
}

// MaxBackoff bounds the wait between two attempts of a delivery.
const MaxBackoff = 4 * time.Hour

// Backoff is how long after failed attempt n (1 for the first) the next
// one is made: first, doubling with each attempt, at most MaxBackoff.
func Backoff(n int, first time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}
