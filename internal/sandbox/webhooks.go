package sandbox

// Webhook events: which recorded events a team's webhooks hear of, and
// the hook that tells them of a refusal by a team quota. The store turns
// each such event into a delivery in the transaction that records it.

import (
	"context"
	"strings"
	"time"

	"github.com/runtools/runtools/api/wire"
)

// WebhookType is the webhook event type (wire.Webhook*) of a recorded
// event, with what goes in its data; "" when webhooks do not hear of it.
// timeoutAt is the sandbox's timeout, for a warning.
func WebhookType(from, to State, why string, timeoutAt time.Time) (string, map[string]any) {
	data := map[string]any{"from": string(from), "to": string(to), "reason": why}
	switch {
	case why == WhyTimeoutWarning:
		return wire.WebhookTimeout, map[string]any{"phase": "warning", "timeout_at": timeoutAt, "state": string(to)}
	case why == ReasonTimeout && (to == Stopping || to == Pausing || from == to):
		return wire.WebhookTimeout, map[string]any{"phase": "expired", "state": string(to)}
	case from == to && strings.HasPrefix(why, ReasonLimit):
		return wire.WebhookLimit, map[string]any{"detail": strings.TrimPrefix(why, ReasonLimit)}
	case from == to:
		return "", nil
	case to == Running && from == Creating:
		return wire.WebhookCreated, data
	case to == Running && (from == Resuming || from == Paused):
		return wire.WebhookResumed, data
	case to == Paused:
		return wire.WebhookPaused, data
	case to == Destroyed && from == Creating, to == Error,
		to == Stopped && !strings.HasPrefix(why, ReasonStopped):
		return wire.WebhookError, data
	case to == Destroyed:
		return wire.WebhookDestroyed, data
	}
	return "", nil
}

// TeamEvents is the optional store ability to record an event of a team
// that concerns no sandbox (a refusal by a quota) for its webhooks.
type TeamEvents interface {
	AddTeamEvent(ctx context.Context, teamID, typ string, data map[string]any) error
}

// LimitRefused tells the team's webhooks (a "limit" event) that a quota
// refused one of its requests; detail says which and why ("max-sandboxes:
// the team runs 10 of 10"). It is for the code that enforces team quotas;
// a failure to record it is logged, not returned, so the refusal itself
// stands either way.
func (m *Manager) LimitRefused(ctx context.Context, teamID, detail string) {
	te, ok := m.store.(TeamEvents)
	if !ok {
		return
	}
	if err := te.AddTeamEvent(context.WithoutCancel(ctx), teamID, wire.WebhookLimit, map[string]any{"detail": detail, "refused": true}); err != nil {
		m.log.Warn("recording a limit event for webhooks", "team", teamID, "err", err)
	}
}
