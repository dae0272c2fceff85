package integration

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// TestMCP drives runtools' MCP server with the official TypeScript MCP
// client (@modelcontextprotocol/sdk, integration/mcpclient) over both
// transports: stdio, spawning `runtools mcp` with the environment the
// CLI reads, and streamable HTTP at the server's /mcp with the key. Each
// lists the tools, creates a sandbox, runs a command, writes, reads and
// lists a file, pauses the sandbox and wakes it with a command, destroys
// it, and gets tool errors for another team's sandbox and an unknown one;
// where the code template is built, it runs a cell with run_code.
// /mcp without a key, or with a wrong one, is a 401.
func TestMCP(t *testing.T) {
	dir := filepath.Join("mcpclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		t.Fatal("the MCP client's npm packages are not installed: run make setup")
	}
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	foreign := foreignSandbox(ctx, t, s)
	runCode := "0"
	if tpl, err := s.client().Template(ctx, "code"); err == nil && tpl.Status == "ready" {
		runCode = "1"
	} else {
		t.Logf("run_code is not checked: the code template is not ready here (%+v, %v)", tpl.Status, err)
	}
	checkMCPNeedsAKey(t, s)
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, "node", "check.mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "MCP_TRANSPORT="+transport, "RUNTOOLS_BIN="+binary,
				"RUNTOOLS_URL=http://"+s.addr, "RUNTOOLS_API_KEY="+s.key, "FOREIGN_SANDBOX="+foreign, "RUN_CODE="+runCode)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			t.Logf("node check.mjs (%s, %v):\n%s", transport, time.Since(start).Round(time.Millisecond), out)
			if err != nil {
				t.Fatalf("the MCP client's checks failed: %v", err)
			}
			if !strings.Contains(string(out), "["+transport+"] ok") {
				t.Fatal("the MCP client's checks did not finish")
			}
		})
	}
}

// foreignSandbox creates a sandbox of another team and returns its ID.
func foreignSandbox(ctx context.Context, t *testing.T, s *server) string {
	t.Helper()
	admin := s.client()
	if _, err := admin.CreateTeam(ctx, "mcp-other"); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateKey(ctx, client.CreateKeyRequest{Name: "other", Team: "mcp-other"})
	if err != nil {
		t.Fatal(err)
	}
	other := s.clientWithKey(key.Secret)
	sb, err := other.Create(ctx, client.CreateRequest{Template: "base"})
	if err != nil {
		t.Fatal(err)
	}
	// Before the server's shutdown, which destroys the admin team's only.
	t.Cleanup(func() { _ = other.Destroy(context.Background(), sb.ID) })
	return sb.ID
}

func checkMCPNeedsAKey(t *testing.T, s *server) {
	t.Helper()
	for _, key := range []string{"", "rt_not-a-key"} {
		req, _ := http.NewRequest("POST", "http://"+s.addr+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST /mcp with key %q: status %d, want 401", key, resp.StatusCode)
		}
	}
}

// TestMCPDesktop: over /mcp, a desktop sandbox's screenshot is an MCP
// image (a PNG), and click, type_text and press_keys act on its screen.
func TestMCPDesktop(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tr := &mcp.StreamableClientTransport{Endpoint: "http://" + s.addr + "/mcp", HTTPClient: &http.Client{Transport: bearer{s.key}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "it"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.IsError {
			t.Fatalf("%s: tool error %v", name, res.Content[0].(*mcp.TextContent).Text)
		}
		return res
	}
	sb := call("create_sandbox", map[string]any{"template": "desktop"}).StructuredContent.(map[string]any)
	id := sb["id"].(string)
	waitVNC(t, s, id, 3*time.Minute) // the screenshot tool waits 30 s for it: a loaded machine takes longer
	shot := call("screenshot", map[string]any{"sandbox": id})
	img, ok := shot.Content[0].(*mcp.ImageContent)
	if !ok || img.MIMEType != "image/png" || !bytes.HasPrefix(img.Data, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %T, want a PNG image", shot.Content[0])
	}
	call("click", map[string]any{"sandbox": id, "x": 200, "y": 150})
	call("type_text", map[string]any{"sandbox": id, "text": "hi"})
	call("press_keys", map[string]any{"sandbox": id, "keys": []string{"Escape"}})
}

// bearer sends a key with every request.
type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}
