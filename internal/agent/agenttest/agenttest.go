// Package agenttest serves a real in-sandbox agent on 127.0.0.1 for tests
// of the code above it: its commands run on the test's own machine.
package agenttest

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// Token is the bearer token of an agent Start serves when cfg has none.
const Token = "test-token"

// Start serves an agent for cfg on 127.0.0.1, logging to log, and returns
// a client for it and its base URL. Both stop when the test ends.
func Start(t testing.TB, cfg agent.Config, log *slog.Logger) (*agentclient.Client, string) {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = Token
	}
	srv, err := agent.NewServer(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	c := agentclient.New(base, cfg.Token)
	t.Cleanup(func() {
		c.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return c, base
}

// Listen serves TCP connections on 127.0.0.1, as a program in a sandbox
// (or an agent that never answers) would: each with serve, in a goroutine
// of its own, until the listener is closed. serve need not close its
// connection: the listener and every connection still open are closed when
// the test ends.
func Listen(t testing.TB, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go serve(conn)
		}
	}()
	return ln
}
