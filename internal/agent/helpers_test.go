package agent_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/agent/agenttest"
)

const testToken = "test-token"

// startAgent serves an agent on 127.0.0.1 and returns a client for it.
func startAgent(t testing.TB, cfg agent.Config) (*agentclient.Client, string) {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return agenttest.Start(t, cfg, log)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// result is what a foreground exec produced.
type result struct {
	pid      int
	stdout   string
	stderr   string
	errors   []string
	exitCode int
	timedOut bool
	events   []agentapi.Event
	times    []time.Duration // arrival of each event since the call
}

func run(t *testing.T, c *agentclient.Client, req agentapi.ExecRequest) result {
	t.Helper()
	res, err := runErr(c, req)
	if err != nil {
		t.Fatalf("Exec(%v): %v", req.Cmd, err)
	}
	return res
}

func runErr(c *agentclient.Client, req agentapi.ExecRequest) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res result
	var mu sync.Mutex
	start := time.Now()
	res.exitCode = -1
	err := c.Exec(ctx, req, func(ev agentapi.Event) error {
		mu.Lock()
		defer mu.Unlock()
		res.events = append(res.events, ev)
		res.times = append(res.times, time.Since(start))
		switch ev.Type {
		case agentapi.EventStart:
			res.pid = ev.PID
		case agentapi.EventStdout:
			res.stdout += string(ev.Data)
		case agentapi.EventStderr:
			res.stderr += string(ev.Data)
		case agentapi.EventError:
			res.errors = append(res.errors, ev.Message)
		case agentapi.EventExit:
			res.exitCode = *ev.ExitCode
			res.timedOut = ev.TimedOut
		}
		return nil
	})
	return res, err
}

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

// errorAnswer sends req and returns the answer's status and error body.
func errorAnswer(t *testing.T, req *http.Request) (int, agentapi.Error) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e agentapi.Error
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}
