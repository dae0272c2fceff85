package mcpserver

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestSandboxLifecycle: create, exec, write and read a file, list files,
// pause, resume and destroy, each through its tool.
func TestSandboxLifecycle(t *testing.T) {
	f := newFake()
	cs := session(t, f)
	sb := ok[SandboxInfo](t, cs, "create_sandbox", map[string]any{"name": "dev"})
	if sb.ID == "" || sb.State != "running" || sb.Template != "base" {
		t.Fatalf("create_sandbox: %+v", sb)
	}
	out := ok[ExecOutput](t, cs, "exec", map[string]any{"sandbox": "dev", "command": "echo hi && exit 3"})
	if out.ExitCode != 3 || !strings.Contains(out.Stdout, "sh -c echo hi && exit 3") {
		t.Errorf("exec: %+v, want exit 3 and the command run by sh -c", out)
	}
	if req := f.execs[0]; req.TimeoutMS != defaultExecTimeout.Milliseconds() {
		t.Errorf("exec without timeout_seconds: timeout %d ms, want the default", req.TimeoutMS)
	}
	w := ok[Written](t, cs, "write_file", map[string]any{"sandbox": sb.ID, "path": "/root/a.txt", "content": "héllo\n"})
	if w.Size != 7 {
		t.Errorf("write_file: %+v, want 7 bytes", w)
	}
	r := ok[FileContent](t, cs, "read_file", map[string]any{"sandbox": sb.ID, "path": "/root/a.txt"})
	if r.Content != "héllo\n" || r.Encoding != "utf-8" {
		t.Errorf("read_file: %+v", r)
	}
	ls := ok[Listing](t, cs, "list_files", map[string]any{"sandbox": sb.ID, "path": "/root"})
	if len(ls.Entries) != 1 || ls.Entries[0].Name != "a.txt" {
		t.Errorf("list_files: %+v", ls)
	}
	if p := ok[SandboxInfo](t, cs, "pause_sandbox", map[string]any{"sandbox": "dev"}); p.State != "paused" {
		t.Errorf("pause_sandbox: state %s", p.State)
	}
	if p := ok[SandboxInfo](t, cs, "resume_sandbox", map[string]any{"sandbox": "dev"}); p.State != "running" {
		t.Errorf("resume_sandbox: state %s", p.State)
	}
	if l := ok[SandboxList](t, cs, "list_sandboxes", nil); len(l.Sandboxes) != 1 {
		t.Errorf("list_sandboxes: %+v", l)
	}
	ok[Destroyed](t, cs, "destroy_sandbox", map[string]any{"sandbox": "dev"})
	if l := ok[SandboxList](t, cs, "list_sandboxes", nil); len(l.Sandboxes) != 0 {
		t.Errorf("list_sandboxes after destroy: %+v", l)
	}
}

// TestToolErrors: a bad call is a tool error (not a protocol error) that
// says what to do next.
func TestToolErrors(t *testing.T) {
	f := newFake()
	cs := session(t, f)
	sb := ok[SandboxInfo](t, cs, "create_sandbox", nil)
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"exec", map[string]any{"sandbox": "theirs", "command": "true"}, "list_sandboxes"},
		{"get_sandbox", map[string]any{"sandbox": "sb-999"}, `"sb-999" not found`},
		{"destroy_sandbox", map[string]any{"sandbox": "theirs"}, "not found"},
		{"read_file", map[string]any{"sandbox": sb.ID, "path": "/nope"}, "list_files"},
		{"exec", map[string]any{"sandbox": sb.ID}, "command is required"},
		{"exec", map[string]any{"sandbox": sb.ID, "command": "ls", "args": []string{"ls"}}, "not both"},
		{"exec", map[string]any{"command": "ls"}, "sandbox"},
		{"write_file", map[string]any{"sandbox": sb.ID, "path": "/x", "content": "!!", "encoding": "base64"}, "base64"},
		{"port_url", map[string]any{"sandbox": sb.ID, "port": 70000}, "1-65535"},
		{"screenshot", map[string]any{"sandbox": sb.ID}, "get_sandbox"},
		{"press_keys", map[string]any{"sandbox": sb.ID, "keys": []string{}}, "keys is required"},
	} {
		if msg := toolErr(t, cs, tc.tool, tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("%s(%v): %q, want it to say %q", tc.tool, tc.args, msg, tc.want)
		}
	}
}

// TestExecShapes: args run without a shell, stdin, a timeout and a
// background start reach the client as asked, and long output keeps its tail.
func TestExecShapes(t *testing.T) {
	f := newFake()
	cs := session(t, f)
	sb := ok[SandboxInfo](t, cs, "create_sandbox", nil)
	ok[ExecOutput](t, cs, "exec", map[string]any{"sandbox": sb.ID, "args": []string{"cat", "-n"}, "stdin": "x", "timeout_seconds": 7, "cwd": "/tmp"})
	if req := f.execs[0]; strings.Join(req.Cmd, " ") != "cat -n" || string(req.Stdin) != "x" || req.TimeoutMS != 7000 || req.Cwd != "/tmp" {
		t.Errorf("exec with args: request %+v", req)
	}
	bg := ok[ExecOutput](t, cs, "exec", map[string]any{"sandbox": sb.ID, "command": "python3 -m http.server", "background": true})
	if bg.PID != 42 || !f.execs[1].Background || f.execs[1].TimeoutMS != 0 {
		t.Errorf("background exec: %+v, request %+v", bg, f.execs[1])
	}
	big := strings.Repeat("a", maxOutput) + "END"
	if got := tail([]byte(big)); !strings.HasSuffix(got, "END") || !strings.HasPrefix(got, "[... 3 bytes cut ...]") {
		t.Errorf("tail of long output: %.40q...", got)
	}
}

// TestBinaryFiles: base64 goes in, and a file that is not text comes out
// base64.
func TestBinaryFiles(t *testing.T) {
	cs := session(t, newFake())
	sb := ok[SandboxInfo](t, cs, "create_sandbox", nil)
	raw := []byte{0xff, 0x00, 0xfe}
	enc := base64.StdEncoding.EncodeToString(raw)
	ok[Written](t, cs, "write_file", map[string]any{"sandbox": sb.ID, "path": "/b", "content": enc, "encoding": "base64"})
	r := ok[FileContent](t, cs, "read_file", map[string]any{"sandbox": sb.ID, "path": "/b"})
	if r.Encoding != "base64" || r.Content != enc || r.Size != 3 {
		t.Errorf("read_file of binary: %+v", r)
	}
}

// TestPortURL: a port not exposed yet is exposed, and a private sandbox's
// port comes with a signed link.
func TestPortURL(t *testing.T) {
	cs := session(t, newFake())
	sb := ok[SandboxInfo](t, cs, "create_sandbox", nil)
	u := ok[PortURL](t, cs, "port_url", map[string]any{"sandbox": sb.ID, "port": 8888})
	if u.URL != "http://8888-"+sb.ID+".sandboxes.localhost" || !strings.Contains(u.SignedURL, "sig=") {
		t.Errorf("port_url: %+v", u)
	}
}

// TestDesktop: the screenshot is an MCP image, and click, type_text and
// press_keys become computer actions.
func TestDesktop(t *testing.T) {
	f := newFake()
	cs := session(t, f)
	sb := ok[SandboxInfo](t, cs, "create_sandbox", map[string]any{"template": "desktop"})
	res := call(t, cs, "screenshot", map[string]any{"sandbox": sb.ID})
	img, isImg := res.Content[0].(*mcp.ImageContent)
	if res.IsError || !isImg || img.MIMEType != "image/png" || string(img.Data) != "\x89PNG fake" {
		t.Fatalf("screenshot: %+v", res.Content)
	}
	if a := ok[Acted](t, cs, "click", map[string]any{"sandbox": sb.ID, "x": 10, "y": 20, "double": true}); a.Cursor.X != 10 || a.Cursor.Y != 20 {
		t.Errorf("click: cursor %+v", a.Cursor)
	}
	ok[Acted](t, cs, "type_text", map[string]any{"sandbox": sb.ID, "text": "hi"})
	ok[Acted](t, cs, "press_keys", map[string]any{"sandbox": sb.ID, "keys": []string{"ctrl+l", "Return"}})
	if len(f.acts) != 3 || f.acts[0].Count != 2 || f.acts[1].Text != "hi" || f.acts[2].Keys[1] != "Return" {
		t.Errorf("actions: %+v", f.acts)
	}
}

// TestRunCode: the main result's text, the output and the plots as
// images; a sandbox without an interpreter says which template has one.
func TestRunCode(t *testing.T) {
	cs := session(t, newFake())
	sb := ok[SandboxInfo](t, cs, "create_sandbox", map[string]any{"template": "code"})
	res := call(t, cs, "run_code", map[string]any{"sandbox": sb.ID, "code": "6*7"})
	if res.IsError || len(res.Content) != 2 {
		t.Fatalf("run_code: %+v", res.Content)
	}
	if img, isImg := res.Content[1].(*mcp.ImageContent); !isImg || string(img.Data) != "\x89PNG plot" {
		t.Errorf("run_code's plot: %+v", res.Content[1])
	}
	out := ok[CodeOutput](t, cs, "run_code", map[string]any{"sandbox": sb.ID, "code": "6*7"})
	if out.Text != "42" || out.Stdout != "6*7\n" || len(out.Results) != 2 || out.Results[0].PNG != "" {
		t.Errorf("run_code: %+v", out)
	}
	base := ok[SandboxInfo](t, cs, "create_sandbox", nil)
	if msg := toolErr(t, cs, "run_code", map[string]any{"sandbox": base.ID, "code": "1"}); !strings.Contains(msg, `template "code"`) || strings.Contains(msg, "get_sandbox") {
		t.Errorf("run_code without an interpreter: %q", msg)
	}
}
