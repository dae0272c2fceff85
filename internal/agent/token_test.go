package agent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

func TestSetToken(t *testing.T) {
	c, url := startAgent(t, agent.Config{})
	ctx := context.Background()
	newToken := "n3w-token-0123456789abcdef0123456789abcdef"
	if err := c.SetToken(ctx, "short", nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("short token: %v", err)
	}
	if err := c.SetToken(ctx, newToken, []byte("seed")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(ctx); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("old token after rotation: %v", err)
	}
	if _, err := agentclient.New(url, newToken).Health(ctx); err != nil {
		t.Errorf("new token: %v", err)
	}
}
