package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// TestMCPStdio: `runtools mcp` speaks MCP on stdin and stdout, with the
// server and key from the environment: a client initializes, reads a
// file of a sandbox through a tool, and gets a tool error for an unknown
// sandbox. The end of stdin ends the command.
func TestMCPStdio(t *testing.T) {
	h := newHarness(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	a := &app{version: "1.2.3", getenv: func(k string) string { return h.env[k] }, now: time.Now, terminal: func(any) bool { return false }}
	root := a.root()
	root.SetIn(inR)
	root.SetOut(outW)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"mcp"})
	done := make(chan int, 1)
	go func() { done <- execute(context.Background(), root); outW.Close() }()
	lines := bufio.NewScanner(outR)
	lines.Buffer(nil, 1<<20)
	ask := func(id int, method string, params any) map[string]any {
		t.Helper()
		req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		if _, err := inW.Write(append(req, '\n')); err != nil {
			t.Fatal(err)
		}
		if !lines.Scan() {
			t.Fatalf("%s: no answer: %v", method, lines.Err())
		}
		var resp struct{ Result map[string]any }
		if err := json.Unmarshal(lines.Bytes(), &resp); err != nil || resp.Result == nil {
			t.Fatalf("%s: answer %s", method, lines.Bytes())
		}
		return resp.Result
	}
	init := ask(1, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "test", "version": "1"}})
	if info, _ := init["serverInfo"].(map[string]any); info["name"] != "runtools" || info["version"] != "1.2.3" {
		t.Errorf("serverInfo: %v", init["serverInfo"])
	}
	_, _ = inW.Write([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"))
	read := ask(2, "tools/call", map[string]any{"name": "read_file", "arguments": map[string]any{"sandbox": "my-env", "path": "/root/hello.txt"}})
	if content, _ := json.Marshal(read["structuredContent"]); read["isError"] == true || !strings.Contains(string(content), `"content":"hello\n"`) {
		t.Errorf("read_file: %v", read)
	}
	bad := ask(3, "tools/call", map[string]any{"name": "exec", "arguments": map[string]any{"sandbox": "nope", "command": "true"}})
	if msg, _ := json.Marshal(bad["content"]); bad["isError"] != true || !strings.Contains(string(msg), "list_sandboxes") {
		t.Errorf("exec in an unknown sandbox: %v, want a tool error that points to list_sandboxes", bad)
	}
	inW.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after stdin ended, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runtools mcp did not end when its stdin did")
	}
}
