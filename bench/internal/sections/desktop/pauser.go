package desktop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// pauser pauses and resumes a desktop sandbox through the Go SDK.
type pauser struct {
	s   *server.Server
	sb  *client.Sandbox
	sec *Section
}

func (p *pauser) cycler() measure.Cycler {
	return measure.Cycler{Name: measure.Runtools, Ops: []measure.Op{p.pause, p.resume}}
}

// pause is timed like the pause section's runtools pause, with the same
// parts told from the image's files and the daemon's log.
func (p *pauser) pause(ctx context.Context) ([]stats.Phase, error) {
	ph, image, err := p.s.Pause(ctx, p.sb)
	if image > 0 {
		p.sec.Images = append(p.sec.Images, image)
	}
	return ph, err
}

// resume times Resume, then until a screenshot succeeds; then, untimed,
// it looks for Firefox's window.
func (p *pauser) resume(ctx context.Context) ([]stats.Phase, error) {
	t0, t1, err := p.s.Resume(ctx, p.sb)
	if err != nil {
		return nil, err
	}
	comp := p.sb.Computer()
	if err := waitScreenshot(ctx, comp, p.sb.ID, t1); err != nil {
		return nil, err
	}
	t2 := time.Now()
	ph := append([]stats.Phase{{Name: server.PhResume, D: t1.Sub(t0)}, {Name: phUsable, D: t2.Sub(t0)}, {Name: phShotAfter, D: t2.Sub(t1)}},
		p.s.ResumeParts(p.sb.ID, t0, t1)...)
	ws, err := comp.Windows(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the windows of %s after its Resume: %w", p.sb.ID, err)
	}
	if hasFirefox(ws) {
		p.sec.FirefoxSeen++
	} else if p.sec.FirefoxMissing == "" {
		p.sec.FirefoxMissing = windowTitles(ws)
	}
	return ph, nil
}

// waitScreenshot takes screenshots until one succeeds, for up to usableBy
// after resumed.
func waitScreenshot(ctx context.Context, comp *client.Computer, id string, resumed time.Time) error {
	for {
		png, err := comp.Screenshot(ctx)
		if err == nil && isPNG(png) {
			return nil
		}
		if time.Since(resumed) > usableBy {
			return fmt.Errorf("no screenshot of %s within %v of its Resume: %v", id, usableBy, err)
		}
		if err := measure.Sleep(ctx, poll); err != nil {
			return err
		}
	}
}

func hasFirefox(ws []client.Window) bool {
	for _, w := range ws {
		if strings.Contains(w.Title, "Firefox") {
			return true
		}
	}
	return false
}

// windowTitles lists the windows' titles, quoted, or says there are none.
func windowTitles(ws []client.Window) string {
	if len(ws) == 0 {
		return "no windows"
	}
	var ts []string
	for _, w := range ws {
		ts = append(ts, fmt.Sprintf("%q", w.Title))
	}
	return strings.Join(ts, ", ")
}

func isPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }

// readFile returns a file's content, or what went wrong reading it.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
