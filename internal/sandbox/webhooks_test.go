package sandbox

import (
	"testing"
	"time"
)

func TestWebhookType(t *testing.T) {
	for _, tt := range []struct {
		from, to State
		why      string
		want     string
	}{
		{"", Creating, "create", ""},
		{Creating, Running, "created", "created"},
		{Creating, Destroyed, ReasonCreateFail + ": no template", "error"},
		{Running, Pausing, "idle", ""},
		{Pausing, Paused, "idle", "paused"},
		{Pausing, Running, "pause failed: x", ""},
		{Paused, Resuming, "request", ""},
		{Resuming, Running, "request", "resumed"},
		{Running, Stopping, ReasonDestroyed, ""},
		{Stopping, Destroyed, ReasonDestroyed, "destroyed"},
		{Running, Stopping, ReasonTimeout, "timeout"},
		{Stopping, Destroyed, ReasonTimeout, "destroyed"},
		{Running, Pausing, ReasonTimeout, "timeout"},
		{Paused, Paused, ReasonTimeout, "timeout"},
		{Running, Running, WhyTimeoutWarning, "timeout"},
		{Running, Running, ReasonLimit + "memory: 1 process(es) killed", "limit"},
		{Running, Running, ReasonDesktopReady, ""},
		{Running, Stopped, ReasonCrashed + ": exit 1", "error"},
		{Running, Stopped, ReasonOOM, "error"},
		{Running, Stopped, ReasonStopped + ": on request", ""},
		{Stopped, Running, "start", ""},
		{Resuming, Error, ReasonRestoreFail, "error"},
	} {
		got, data := WebhookType(tt.from, tt.to, tt.why, time.Time{})
		if got != tt.want {
			t.Errorf("%s -> %s (%s): %q, want %q", tt.from, tt.to, tt.why, got, tt.want)
		}
		if got != "" && data == nil {
			t.Errorf("%s -> %s (%s): no data", tt.from, tt.to, tt.why)
		}
	}
}
