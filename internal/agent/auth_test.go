package agent_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/runtools/runtools/internal/agent"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

// TestAuth: every route rejects a missing or wrong token before doing
// anything, including routes that do not exist.
func TestAuth(t *testing.T) {
	t.Parallel()
	wrong, base := startWrongClient(t)
	ctx := context.Background()
	if _, err := wrong.Health(ctx); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("Health with a wrong token: %v", err)
	}
	if err := wrong.Exec(ctx, agentapi.ExecRequest{Cmd: []string{"true"}}, func(agentapi.Event) error { return nil }); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("Exec with a wrong token: %v", err)
	}
	if _, err := wrong.Stat(ctx, "/"); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("Stat with a wrong token: %v", err)
	}

	routes := []struct{ method, path string }{
		{"GET", "/health"}, {"POST", "/exec"}, {"GET", "/processes"}, {"GET", "/pids"},
		{"GET", "/processes/1/output"}, {"POST", "/processes/1/signal"}, {"POST", "/processes/1/stdin"},
		{"GET", "/files?path=/etc/hostname"}, {"PUT", "/files?path=/tmp/x"}, {"DELETE", "/files?path=/tmp/x"},
		{"GET", "/files/stat?path=/"}, {"GET", "/files/list?path=/"}, {"POST", "/files/mkdir?path=/tmp/y"},
		{"GET", "/files/archive?path=/etc"}, {"PUT", "/files/archive?path=/tmp/z"},
		{"GET", "/debug/spawn"}, {"POST", "/token"}, {"POST", "/attach"}, {"POST", "/sftp"},
		{"POST", "/forward?port=22"}, {"GET", "/no/such/route"},
	}
	for _, r := range routes {
		for _, header := range []string{"", "Bearer wrong", "Bearer " + testToken + "x", "Basic " + testToken, testToken} {
			req, _ := http.NewRequest(r.method, base+r.path, nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			if status, e := errorAnswer(t, req); status != http.StatusUnauthorized || e.Code != "unauthenticated" {
				t.Errorf("%s %s with %q: %d %+v", r.method, r.path, header, status, e)
			}
		}
	}
}

// startWrongClient serves an agent and returns a client for it that has
// the wrong token, and its base URL.
func startWrongClient(t *testing.T) (*agentclient.Client, string) {
	t.Helper()
	_, base := startAgent(t, agent.Config{})
	wrong := agentclient.New(base, "not-the-token")
	t.Cleanup(wrong.Close)
	return wrong, base
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	_, base := startAgent(t, agent.Config{})
	req, _ := http.NewRequest("GET", base+"/nope", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if status, e := errorAnswer(t, req); status != http.StatusNotFound || e.Code != "not_found" {
		t.Errorf("unknown route: %d %+v", status, e)
	}
}

func TestHealthAndWaitReady(t *testing.T) {
	t.Parallel()
	c, _ := startAgent(t, agent.Config{})
	ctx := context.Background()
	h, err := c.Health(ctx)
	if err != nil || !h.OK {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	if err := c.WaitReady(ctx, 0); err != nil {
		t.Errorf("WaitReady on a running agent: %v", err)
	}
}
