package sandbox_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/runtools/runtools/api/wire"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// TestWebhookEventsFromTheManager: a create that fails is an error event
// for the team's webhook, and LimitRefused (the hook for team quotas) a
// limit event without a sandbox.
func TestWebhookEventsFromTheManager(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.CreateWebhook(ctx, store.Webhook{ID: "wh_1", TeamID: "team-a", URL: "http://127.0.0.1:9/", Events: wire.WebhookEventTypes, Secret: "s", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e.rt.startErr = context.DeadlineExceeded
	if _, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Name: "x"}); err == nil {
		t.Fatal("create succeeded")
	}
	e.mgr.LimitRefused(ctx, "team-a", "max-sandboxes: the team runs 10 of 10")
	out, err := e.st.ClaimDeliveries(ctx, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, o := range out {
		types = append(types, o.Type)
	}
	slices.Sort(types)
	if !slices.Equal(types, []string{wire.WebhookError, wire.WebhookLimit}) {
		t.Errorf("events %v, want error and limit", types)
	}
}
