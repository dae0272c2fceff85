package agent_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agenttest"
	"github.com/runtools/runtools/internal/errdefs"
)

func TestForward(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	// A server on loopback only, as a dev server started without --host.
	ln := agenttest.Listen(t, func(conn net.Conn) { // upper-cases what it reads, until the caller half-closes
		defer conn.Close()
		b, _ := io.ReadAll(conn)
		conn.Write(bytes.ToUpper(b))
	})
	port := ln.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := c.Forward(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "hello through the agent")
	conn.(interface{ CloseWrite() error }).CloseWrite() // the half-close reaches the server
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "HELLO THROUGH THE AGENT" {
		t.Fatalf("read %q, %v", got, err)
	}

	ln.Close()
	if _, err := c.Forward(ctx, port); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("forward to a closed port: %v, want unavailable", err)
	}
	if _, err := c.Forward(ctx, agentapi.Port); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("forward to the agent's port: %v, want permission denied", err)
	}
	for _, p := range []int{0, -1, 70000} {
		if _, err := c.Forward(ctx, p); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("forward to port %d: %v, want invalid argument", p, err)
		}
	}
}
