package code

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/section"
)

// execTrue is the Python side's script.
//
//go:embed exec_true.py
var execTrue []byte

// Where the Python SDK and the interpreter that makes its venv are. The
// bench runs from the repository's root, as -bin assumes too.
const (
	pythonSDK = "sdk/python"
	python3   = "/usr/bin/python3" // Debian's, with python3-httpx (scripts/setup.sh)
)

// batchWait bounds one batch of the Python side, and its start.
const batchWait = 2 * time.Minute

// pyWorker is the Python side: one process, told how many execs to time
// a line at a time.
type pyWorker struct {
	version string // "Python X, httpx Y"
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	stderr  bytes.Buffer // read only once the process has ended
	exited  chan struct{}
	close   func(context.Context) error
}

// startPython makes a venv with the Python SDK in the bench's temporary
// directory and starts the Python side against sandbox id, which has done
// its uncounted execs once it is returned. Its stop goes on env.Undo.
func startPython(ctx context.Context, env *section.Env, id string) (*pyWorker, error) {
	dir := filepath.Join(env.Systems.Dir, "python")
	if _, err := host.Command(ctx, python3, "-m", "venv", "--system-site-packages", dir); err != nil {
		return nil, fmt.Errorf("making a venv: %w", err)
	}
	if _, err := host.Command(ctx, filepath.Join(dir, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check",
		"--no-index", "--no-build-isolation", "--no-deps", pythonSDK); err != nil {
		return nil, fmt.Errorf("installing the Python SDK: %w", err)
	}
	script := filepath.Join(dir, "exec_true.py")
	if err := os.WriteFile(script, execTrue, 0o644); err != nil {
		return nil, err
	}
	w := &pyWorker{exited: make(chan struct{})}
	w.cmd = exec.CommandContext(ctx, filepath.Join(dir, "bin", "python"), script, id, strconv.FormatFloat(measure.SettleTime.Seconds(), 'f', -1, 64))
	w.cmd.Env = append(os.Environ(), "RUNTOOLS_URL=http://"+env.Server.Addr, "RUNTOOLS_API_KEY="+env.Server.Key)
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is the bench's
	w.cmd.Stderr = &w.stderr
	var err error
	if w.in, err = w.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w.out = bufio.NewReader(out)
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the Python side: %w", err)
	}
	go func() { _ = w.cmd.Wait(); close(w.exited) }()
	w.close = host.Once(w.stop)
	env.Undo.Push("stop the Python SDK process", w.close)
	var v struct{ Python, Httpx string }
	if err := w.readLine(&v); err != nil {
		return nil, err
	}
	w.version = fmt.Sprintf("Python %s, httpx %s", v.Python, v.Httpx)
	return w, nil
}

// batch has the Python side run n execs, each after the settle gap, and
// returns their durations as it measured them.
func (w *pyWorker) batch(ctx context.Context, n int) ([]time.Duration, error) {
	if _, err := fmt.Fprintln(w.in, n); err != nil {
		return nil, w.failed(fmt.Errorf("asking for %d execs: %w", n, err))
	}
	var ns []int64
	if err := w.readLine(&ns); err != nil {
		return nil, err
	}
	if len(ns) != n {
		return nil, fmt.Errorf("the Python side timed %d execs, not %d", len(ns), n)
	}
	out := make([]time.Duration, n)
	for i, d := range ns {
		out[i] = time.Duration(d)
	}
	return out, nil
}

// readLine decodes the Python side's next line of output into v, waiting
// at most batchWait.
func (w *pyWorker) readLine(v any) error {
	kill := time.AfterFunc(batchWait, func() { _ = w.cmd.Process.Kill() })
	line, err := w.out.ReadBytes('\n')
	if !kill.Stop() {
		err = fmt.Errorf("no answer within %s", batchWait)
	}
	if err != nil {
		return w.failed(err)
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("decoding the Python side's line %q: %w", line, err)
	}
	return nil
}

// failed ends the Python side and returns err with what it printed on
// stderr.
func (w *pyWorker) failed(err error) error {
	_ = w.close(context.Background())
	return fmt.Errorf("the Python side: %w: %s", err, host.LastLines(w.stderr.String(), 5))
}

// stop closes the Python side's input, which ends it, and waits; it is
// killed if it has not ended after 5 s.
func (w *pyWorker) stop(context.Context) error {
	w.in.Close()
	select {
	case <-w.exited:
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	return nil
}
