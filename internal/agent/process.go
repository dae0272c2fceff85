package agent

import (
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

const (
	// readChunk is the most output one event carries.
	readChunk = 32 << 10
	// drainIdle is how long the pipes may stay silent after the process
	// exited before the agent stops reading: a grandchild that inherited
	// stdout (`daemon &`) must not hold the exec open.
	drainIdle = 100 * time.Millisecond
	// drainMax bounds reading after exit even if a grandchild keeps writing.
	drainMax = time.Second
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// process is one child started through the agent. Its output goes to emit:
// the exec stream for a foreground process, the output log for a background
// one.
type process struct {
	pid        int
	argv       []string
	started    time.Time
	background bool
	cmd        *exec.Cmd

	stdout, stderr *os.File // read ends; stderr is nil on a PTY, where stdout is the master
	stdin          *os.File // write end, closed at exit; nil when stdin is /dev/null or a PTY
	// stdinOpen: a background process whose stdin takes writes (see
	// writeStdin) until the caller closes it or the process exits.
	stdinOpen bool
	stdinMu   sync.Mutex // one write, or the close, at a time
	// stdinEOF: the caller closed stdin. Set under stdinMu; read without
	// it by info, so that listing does not wait for a write in progress.
	stdinEOF atomic.Bool
	// stdinBroken: a write found that the process closed its stdin (EPIPE).
	stdinBroken atomic.Bool

	emit    func(ev agentapi.Event)
	events  chan agentapi.Event // foreground: closed once output is drained
	out     *outputLog          // background
	readers sync.WaitGroup

	exitedAt atomic.Int64 // unix nanoseconds; 0 while running
	timedOut atomic.Bool
	timer    *time.Timer

	done     chan struct{} // closed when exit is known and output drained
	exitCode int           // valid after done
}

// kill sends SIGKILL to the process group.
func (p *process) kill() {
	syscall.Kill(-p.pid, syscall.SIGKILL)
}

func (p *process) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) info() agentapi.Process {
	info := agentapi.Process{
		PID: p.pid, Cmd: p.argv, StartedAt: p.started, Running: !p.finished(),
		StdinOpen: p.stdinWritable(),
	}
	if !info.Running {
		code := p.exitCode
		info.ExitCode = &code
	}
	return info
}

func (p *process) exitEvent() agentapi.Event {
	code := p.exitCode
	return agentapi.Event{Type: agentapi.EventExit, ExitCode: &code, TimedOut: p.timedOut.Load()}
}

// run starts the goroutines that feed stdin, read the output and wait for
// the process. With stdin nil the caller feeds p.stdin itself (attach).
// onExit runs after the exit status is known and all output has been
// emitted, just before done is closed.
func (p *process) run(sp *spawner, stdin []byte, timeout time.Duration, onExit func(*process)) {
	if timeout > 0 {
		p.timer = time.AfterFunc(timeout, func() {
			p.timedOut.Store(true)
			p.kill()
		})
	}
	if p.stdin != nil && stdin != nil {
		go func() {
			// Write errors mean the process closed stdin or exited; both end
			// the input, which is all stdin can do.
			p.stdin.Write(stdin)
			p.stdin.Close()
		}()
	}
	p.readers.Add(1)
	go p.read(p.stdout, agentapi.EventStdout)
	if p.stderr != nil {
		p.readers.Add(1)
		go p.read(p.stderr, agentapi.EventStderr)
	}
	go p.wait(sp, onExit)
}

// read emits what arrives on f as soon as it arrives, up to readChunk bytes
// per event, until EOF (EIO for a PTY master whose terminal was closed) or,
// once the process has exited, until the pipe has been idle for drainIdle.
func (p *process) read(f *os.File, typ string) {
	defer p.readers.Done()
	defer f.Close()
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for {
		n, err := f.Read(buf)
		if n > 0 {
			p.emit(agentapi.Event{Type: typ, Data: append([]byte(nil), buf[:n]...)})
		}
		if err != nil {
			return // EOF, or the drain deadline passed
		}
		if at := p.exitedAt.Load(); at != 0 {
			f.SetReadDeadline(drainDeadline(at))
		}
	}
}

func drainDeadline(exitedAt int64) time.Time {
	d := time.Now().Add(drainIdle)
	if limit := time.Unix(0, exitedAt).Add(drainMax); limit.Before(d) {
		d = limit
	}
	return d
}

// wait waits for the process, then bounds the output drain, then publishes
// the exit status.
func (p *process) wait(sp *spawner, onExit func(*process)) {
	if err := sp.wait(p.cmd); p.cmd.ProcessState == nil {
		sp.log.Error("waiting for process", "pid", p.pid, "err", err)
	}
	now := time.Now().UnixNano()
	p.exitedAt.Store(now)
	// Wake readers blocked on a pipe a grandchild holds open. A reader that
	// gets data afterwards sets its own (later) deadline.
	p.stdout.SetReadDeadline(drainDeadline(now))
	if p.stderr != nil {
		p.stderr.SetReadDeadline(drainDeadline(now))
	}
	if p.stdin != nil {
		p.stdin.Close() // unblock a writer the process never read from
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.readers.Wait()

	p.exitCode = exitCode(p.cmd.ProcessState, p.timedOut.Load())
	if p.events != nil {
		close(p.events)
	}
	if onExit != nil {
		onExit(p)
	}
	close(p.done)
}

// exitCode follows the shell: 124 after a timeout, 128+n for death by
// signal n, else the exit status. A status that could not be collected
// (which the reaper's design rules out) is 255.
func exitCode(st *os.ProcessState, timedOut bool) int {
	if timedOut {
		return 124
	}
	if st == nil {
		return 255
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}
