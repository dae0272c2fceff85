package apiserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds a key to every request.
type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects an MCP client to /mcp with key.
func mcpSession(t *testing.T, f *fixture, key string) *mcp.ClientSession {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: f.srv.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{key}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(context.Background(), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// TestMCPNeedsAKey: /mcp without a key, or with a wrong one, is a 401.
func TestMCPNeedsAKey(t *testing.T) {
	f := newFixture(t)
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	for _, key := range []string{"", "rt_wrong"} {
		if resp := f.do(t, "POST", "/mcp", key, body); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST /mcp with key %q: %d, want 401", key, resp.StatusCode)
		}
	}
}

// TestMCPActsAsTheCaller: the tools at /mcp act with the caller's key,
// through the API in process: a team's sandbox is there for its own key
// and not found for another team's.
func TestMCPActsAsTheCaller(t *testing.T) {
	f := newFixture(t)
	if out, isErr := callTool(t, mcpSession(t, f, f.keyA), "get_sandbox", map[string]any{"sandbox": "mine"}); isErr || !strings.Contains(out, f.sandboxA) {
		t.Errorf("team a's get_sandbox of its own sandbox: %s (error %v)", out, isErr)
	}
	csB := mcpSession(t, f, f.keyB)
	for _, ref := range []string{"mine", f.sandboxA} {
		out, isErr := callTool(t, csB, "get_sandbox", map[string]any{"sandbox": ref})
		if !isErr || !strings.Contains(out, "not found") {
			t.Errorf("team b's get_sandbox of team a's %s: %s (error %v), want a not-found tool error", ref, out, isErr)
		}
	}
	if out, _ := callTool(t, csB, "list_sandboxes", nil); strings.Contains(out, f.sandboxA) {
		t.Errorf("team b's list_sandboxes shows team a's sandbox: %s", out)
	}
}

// TestInProcessStreams: the in-process transport hands over each write
// as it is made, before the handler returns.
func TestInProcessStreams(t *testing.T) {
	next := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "first\n")
		<-next
		io.WriteString(w, "second\n")
	})
	resp, err := (&http.Client{Transport: inProcess{h}}).Get("http://x/y")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" || resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Test") != "yes" {
		t.Fatalf("first write: %q, %v, status %d, header %v", buf, err, resp.StatusCode, resp.Header)
	}
	close(next)
	if rest, _ := io.ReadAll(resp.Body); string(rest) != "second\n" {
		t.Errorf("rest: %q", rest)
	}
}
