package integration

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
)

// codeSandbox makes a sandbox of the code template, which make test
// builds (build-templates code); a missing one fails the test.
func codeSandbox(t *testing.T, s *server) *client.Sandbox {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	if tpl, err := s.client().Template(ctx, "code"); err != nil || tpl.Status != "ready" {
		t.Fatalf("the code template is not built (%+v, %v): run `runtools server build-templates code` (make test does)", tpl, err)
	}
	return create(t, s, client.CreateRequest{Template: "code"})
}

func runCode(t *testing.T, c *client.Client, ref string, req client.RunCodeRequest) *client.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ex, err := c.RunCode(ctx, ref, req, nil)
	if err != nil {
		t.Fatalf("run_code %.40q: %v", req.Code, err)
	}
	return ex
}

func py(t *testing.T, c *client.Client, ref, code string) *client.Execution {
	t.Helper()
	return runCode(t, c, ref, client.RunCodeRequest{Code: code})
}

// TestCodeInterpreter runs cells in a code sandbox's kernel: state kept
// between calls, streamed output, rich results, errors, a timeout, a dead
// kernel, output over the limit, JavaScript, contexts and a pause.
func TestCodeInterpreter(t *testing.T) {
	s := startServer(t)
	sb := codeSandbox(t, s)
	c := s.client()
	var streamed []string
	ex, err := c.RunCode(ctxT(t, 3*time.Minute), sb.ID, client.RunCodeRequest{Code: "import numpy as np\nx = np.arange(4)\nprint('sum', x.sum())\nx * 2"},
		func(ev client.CodeEvent) { streamed = append(streamed, ev.Type) })
	if err != nil || ex.Stdout != "sum 6\n" || ex.Text() != "array([0, 2, 4, 6])" || ex.Error != nil {
		t.Fatalf("first cell: %+v, %v", ex, err)
	}
	if strings.Join(streamed, ",") != "stdout,result,end" {
		t.Errorf("events: %v", streamed)
	}
	if ex := py(t, c, sb.ID, "int(x.sum())"); ex.Text() != "6" {
		t.Errorf("state between calls: %+v", ex)
	}
	t.Run("rich results", func(t *testing.T) { richResults(t, c, sb.ID) })
	t.Run("errors and limits", func(t *testing.T) { codeErrors(t, c, sb.ID) })
	t.Run("javascript and contexts", func(t *testing.T) { codeContexts(t, c, sb.ID) })
	// A pause keeps the kernel; run_code wakes the sandbox.
	if _, err := c.Pause(ctxT(t, time.Minute), sb.ID); err != nil {
		t.Fatal(err)
	}
	if ex := py(t, c, sb.ID, "int(x.sum())"); ex.Text() != "6" {
		t.Errorf("after pause and resume: %+v", ex)
	}
	t.Run("refused", func(t *testing.T) { codeRefused(t, s, sb.ID) })
}

func richResults(t *testing.T, c *client.Client, ref string) {
	ex := py(t, c, ref, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
	if len(ex.Results) != 1 || ex.Results[0].SVG == "" {
		t.Fatalf("plot: %+v", ex)
	}
	png, err := base64.StdEncoding.DecodeString(ex.Results[0].PNG)
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("plot's PNG: %v, %.8q", err, png)
	}
	ex = py(t, c, ref, "import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})")
	if r := ex.Results; len(r) != 1 || !r[0].IsMain || !strings.Contains(r[0].HTML, "<table") || !strings.Contains(r[0].Text, "a  b") {
		t.Errorf("DataFrame: %+v", ex)
	}
	ex = py(t, c, ref, "from IPython.display import JSON, Markdown, display\ndisplay(Markdown('# hi'))\nJSON({'k': [1, 2]})")
	if r := ex.Results; len(r) != 2 || r[0].Markdown != "# hi" || r[1].JSON == nil {
		t.Errorf("Markdown and JSON: %+v", ex)
	}
}

func codeErrors(t *testing.T, c *client.Client, ref string) {
	ex := py(t, c, ref, "1/0")
	if e := ex.Error; e == nil || e.Name != "ZeroDivisionError" || !strings.Contains(e.Traceback, "1/0") {
		t.Errorf("error: %+v", ex.Error)
	}
	ex = runCode(t, c, ref, client.RunCodeRequest{Code: "import time\ny = 1\ntime.sleep(60)", TimeoutMS: 1000})
	if !ex.TimedOut || ex.Error == nil || ex.Error.Name != "KeyboardInterrupt" {
		t.Errorf("timeout: %+v", ex)
	}
	if ex := py(t, c, ref, "y + int(x.sum())"); ex.Text() != "7" {
		t.Errorf("after the timeout the kernel keeps its state: %+v", ex)
	}
	ex = py(t, c, ref, "import sys\nsys.stdout.write('x' * (9 << 20))\nsys.stdout.buffer.write(b'\\xff\\xfe')")
	if len(ex.Stdout) > 9<<20 || !strings.Contains(ex.Stdout, "[output cut") {
		t.Errorf("output over the limit: %d bytes, ends %q", len(ex.Stdout), ex.Stdout[max(0, len(ex.Stdout)-120):])
	}
	ex = py(t, c, ref, "import os\nos._exit(3)")
	if ex.Error == nil || ex.Error.Name != "KernelDied" || len(ex.Notices) != 1 {
		t.Errorf("a dying kernel: %+v", ex)
	}
	if ex := py(t, c, ref, "'x' in dir()"); ex.Text() != "False" {
		t.Errorf("after a restart: %+v", ex)
	}
	py(t, c, ref, "import numpy as np\nx = np.arange(4)") // for the pause below
}

func codeContexts(t *testing.T, c *client.Client, ref string) {
	js := client.RunCodeRequest{Language: client.LanguageJavaScript, Code: "let n = 40; console.log('hi'); n + 1"}
	if ex := runCode(t, c, ref, js); ex.Text() != "41" || ex.Stdout != "hi\n" {
		t.Errorf("javascript: %+v", ex)
	}
	js.Code = "n * 2"
	if ex := runCode(t, c, ref, js); ex.Text() != "80" {
		t.Errorf("javascript state: %+v", ex)
	}
	ctx := ctxT(t, 2*time.Minute)
	cc, err := c.CreateCodeContext(ctx, ref, client.CodeContextRequest{Language: "python", Cwd: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	ex := runCode(t, c, ref, client.RunCodeRequest{Context: cc.ID, Code: "import os\n'x' in dir(), os.getcwd()"})
	if ex.Text() != "(False, '/tmp')" {
		t.Errorf("a new context shares nothing: %+v", ex)
	}
	list, err := c.CodeContexts(ctx, ref)
	if err != nil || len(list) < 3 {
		t.Errorf("contexts: %+v, %v", list, err)
	}
	if err := c.DeleteCodeContext(ctx, ref, cc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunCode(ctx, ref, client.RunCodeRequest{Context: cc.ID, Code: "1"}, nil); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a deleted context: %v", err)
	}
}

func codeRefused(t *testing.T, s *server, ref string) {
	ctx := ctxT(t, 2*time.Minute)
	admin := s.client()
	if _, err := admin.CreateTeam(ctx, "coders"); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateKey(ctx, client.CreateKeyRequest{Name: "coder", Team: "coders"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.clientWithKey(key.Secret).RunCode(ctx, ref, client.RunCodeRequest{Code: "1"}, nil); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another team's sandbox: %v", err)
	}
	plain := create(t, s, client.CreateRequest{})
	_, err = admin.RunCode(ctx, plain.ID, client.RunCodeRequest{Code: "1"}, nil)
	if !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), "--template code") {
		t.Errorf("a base sandbox: %v", err)
	}
	if _, err := admin.RunCode(ctx, ref, client.RunCodeRequest{Code: "1", Language: "ruby"}, nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("an unknown language: %v", err)
	}
}
