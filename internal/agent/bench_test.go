package agent_test

import (
	"context"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
)

// BenchmarkExecTrue measures a whole foreground exec of `true` through the
// client; compare with the agent's own spawn timing (TestExecOverhead).
func BenchmarkExecTrue(b *testing.B) {
	c, _ := startAgent(b, agent.Config{})
	ctx := context.Background()
	for b.Loop() {
		if err := c.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"true"}}, func(agentapi.Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAttachTrue measures attaching to `true` until its exit code,
// on a new connection each time; compare with BenchmarkExecTrue.
func BenchmarkAttachTrue(b *testing.B) {
	c, _ := startAgent(b, agent.Config{})
	for b.Loop() {
		attachTrue(b, c)
	}
}

func BenchmarkHealth(b *testing.B) {
	c, _ := startAgent(b, agent.Config{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Health(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
