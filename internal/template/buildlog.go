package template

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Reporter receives the progress of a build from a Builder.
type Reporter interface {
	// Step starts a named step, e.g. "installing Bun".
	Step(name string)
	// Write takes command output. Each line becomes a progress detail, and
	// the last lines go into the error of a failed build.
	io.Writer
}

// tailLines is how many lines of output a failed build's error quotes.
const tailLines = 50

// buildLog is the Reporter the Manager hands to a Builder.
type buildLog struct {
	template string
	progress func(Progress)
	start    time.Time

	mu      sync.Mutex
	step    string
	partial []byte
	tail    []string
}

var _ Reporter = (*buildLog)(nil)

func newBuildLog(template string, progress func(Progress)) *buildLog {
	return &buildLog{template: template, progress: progress, start: time.Now()}
}

func (b *buildLog) Step(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.step = name
	b.emitLocked("", false)
}

func (b *buildLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexAny(b.partial, "\r\n")
		if i < 0 {
			break
		}
		b.lineLocked(string(b.partial[:i]))
		b.partial = b.partial[i+1:]
	}
	return len(p), nil
}

// done emits the last event of a successful build.
func (b *buildLog) done(detail string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.step = "ready"
	b.emitLocked(detail, true)
}

// fail wraps err with the step it happened in and the last lines of output.
func (b *buildLog) fail(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	if len(b.tail) == 0 {
		return fmt.Errorf("%s: %w", b.step, err)
	}
	return fmt.Errorf("%s: %w; last output:\n%s", b.step, err, strings.Join(b.tail, "\n"))
}

func (b *buildLog) flushLocked() {
	if len(b.partial) > 0 {
		b.lineLocked(string(b.partial))
		b.partial = nil
	}
}

func (b *buildLog) lineLocked(line string) {
	line = strings.TrimRight(line, " \t")
	if line == "" {
		return
	}
	b.tail = append(b.tail, line)
	if len(b.tail) > tailLines {
		b.tail = b.tail[len(b.tail)-tailLines:]
	}
	b.emitLocked(line, false)
}

func (b *buildLog) emitLocked(detail string, done bool) {
	if b.progress == nil {
		return
	}
	b.progress(Progress{Template: b.template, Step: b.step, Detail: detail, Elapsed: time.Since(b.start), Done: done})
}
