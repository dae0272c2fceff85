package mcpserver

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// session connects an MCP client to a server over the fake, in memory.
func session(t *testing.T, api API) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := New(api, Options{Version: "test"}).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool and returns its result, failing on a protocol error.
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v, want a result", name, err)
	}
	return res
}

// ok calls a tool that must succeed and decodes its structured output.
func ok[T any](t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) T {
	t.Helper()
	res := call(t, cs, name, args)
	if res.IsError {
		t.Fatalf("%s(%v): tool error %s", name, args, text(res))
	}
	var out T
	data, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: decoding %s: %v", name, data, err)
	}
	return out
}

// toolErr calls a tool that must fail with a tool error and returns its message.
func toolErr(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	res := call(t, cs, name, args)
	if !res.IsError {
		t.Fatalf("%s(%v): succeeded, want a tool error", name, args)
	}
	return text(res)
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestToolsAreDescribed: every tool has a description and an input
// schema of type object whose properties are described, and every tool
// but create_sandbox and list_sandboxes requires a sandbox.
func TestToolsAreDescribed(t *testing.T) {
	cs := session(t, newFake())
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"create_sandbox", "list_sandboxes", "get_sandbox", "destroy_sandbox", "pause_sandbox", "resume_sandbox",
		"port_url", "exec", "run_code", "read_file", "write_file", "list_files", "screenshot", "click", "type_text", "press_keys"}
	got := map[string]*mcp.Tool{}
	for _, tool := range res.Tools {
		got[tool.Name] = tool
	}
	for _, name := range want {
		tool := got[name]
		if tool == nil {
			t.Errorf("no tool %s", name)
			continue
		}
		if len(tool.Description) < 20 {
			t.Errorf("%s: description %q is too short to help", name, tool.Description)
		}
		var schema struct {
			Type       string                                  `json:"type"`
			Properties map[string]struct{ Description string } `json:"properties"`
			Required   []string                                `json:"required"`
		}
		data, _ := json.Marshal(tool.InputSchema)
		if err := json.Unmarshal(data, &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: input schema %s is not an object schema", name, data)
		}
		for p, s := range schema.Properties {
			if s.Description == "" {
				t.Errorf("%s: property %s has no description", name, p)
			}
		}
		if takes := name != "create_sandbox" && name != "list_sandboxes"; takes != slices.Contains(schema.Required, "sandbox") {
			t.Errorf("%s: sandbox required %v, want %v (required: %v)", name, !takes, takes, schema.Required)
		}
	}
}
