package pause

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/node"
	"github.com/runtools/runtools/bench/internal/raw"
	"github.com/runtools/runtools/bench/internal/server"
	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// The names of what the raw side of the comparison measures, as the report
// shows them: the headline operations first, then their parts.
const (
	PhCheckpoint  = "pause: `runsc checkpoint`"
	PhFullStop    = "pause, full stop: `runsc checkpoint` + wait until stopped + `runsc delete --force`"
	PhRawResume   = "resume: re-address eth0 (`ip -batch`) + `runsc restore`"
	PhWaitStopped = "pause: wait until `runsc state` no longer says running"
	PhDelete      = "pause: `runsc delete --force`"
	PhReaddress   = "resume: re-address eth0 (`ip -n NS -batch`)"
	PhRestore     = "resume: `runsc restore --detach`"
	PhFirstGet    = "resume: (first HTTP GET after it, not in the total)"
)

// rawPauser pauses and resumes one raw runsc sandbox running the Node.js
// server the way the daemon does it, without the daemon.
type rawPauser struct {
	r      *raw.Runsc
	b      *raw.Box
	holdMB int
	img    string      // the checkpoint image directory
	images stats.Sizes // the size of every image written
}

func (p *rawPauser) cycler(name string) measure.Cycler {
	return measure.Cycler{Name: name, Ops: []measure.Op{p.pause, p.resume}}
}

// pause checkpoints the sandbox, then waits until it has stopped and
// deletes it, so that its ID can be restored.
func (p *rawPauser) pause(ctx context.Context) ([]stats.Phase, error) {
	if err := os.RemoveAll(p.img); err != nil {
		return nil, fmt.Errorf("removing the last image: %w", err)
	}
	if err := measure.Sleep(ctx, node.QuiesceTime); err != nil { // the bench's last connection closes
		return nil, err
	}
	t0 := time.Now()
	if err := p.r.Checkpoint(ctx, p.b, p.img); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := p.r.WaitStopped(ctx, p.b); err != nil {
		return nil, err
	}
	t2 := time.Now()
	if err := p.r.DeleteContainer(ctx, p.b); err != nil {
		return nil, err
	}
	t3 := time.Now()
	p.images = append(p.images, raw.DirSize(p.img))
	return []stats.Phase{{Name: PhCheckpoint, D: t1.Sub(t0)}, {Name: PhFullStop, D: t3.Sub(t0)},
		{Name: PhWaitStopped, D: t2.Sub(t1)}, {Name: PhDelete, D: t3.Sub(t2)}}, nil
}

// resume puts the address back and restores the sandbox, then (untimed)
// checks that the server answers.
func (p *rawPauser) resume(ctx context.Context) ([]stats.Phase, error) {
	t0 := time.Now()
	if err := p.r.Readdress(ctx, p.b); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := p.r.Restore(ctx, p.b, p.img); err != nil {
		return nil, err
	}
	t2 := time.Now()
	get, err := node.Wait(ctx, p.b.IP.String(), p.holdMB, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("after restore: %w (console: %s)", err, p.r.Console(p.b))
	}
	return []stats.Phase{{Name: PhRawResume, D: t2.Sub(t0)}, {Name: PhReaddress, D: t1.Sub(t0)},
		{Name: PhRestore, D: t2.Sub(t1)}, {Name: PhFirstGet, D: get}}, nil
}

// rtPauser pauses and resumes one runtools sandbox running the Node.js
// server through the Go SDK.
type rtPauser struct {
	s      *server.Server
	sb     *client.Sandbox
	holdMB int
	images stats.Sizes // the image sizes the daemon logged
}

func (p *rtPauser) cycler(name string) measure.Cycler {
	return measure.Cycler{Name: name, Ops: []measure.Op{p.pause, p.resume}}
}

func (p *rtPauser) pause(ctx context.Context) ([]stats.Phase, error) {
	ph, image, err := p.s.Pause(ctx, p.sb)
	if image > 0 {
		p.images = append(p.images, image)
	}
	return ph, err
}

func (p *rtPauser) resume(ctx context.Context) ([]stats.Phase, error) {
	t0, t1, err := p.s.Resume(ctx, p.sb)
	if err != nil {
		return nil, err
	}
	get, err := node.Wait(ctx, p.sb.IP, p.holdMB, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("after resume: %w", err)
	}
	ph := append([]stats.Phase{{Name: server.PhResume, D: t1.Sub(t0)}}, p.s.ResumeParts(p.sb.ID, t0, t1)...)
	return append(ph, stats.Phase{Name: PhFirstGet, D: get}), nil
}
