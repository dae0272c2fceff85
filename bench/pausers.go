package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/client"
)

// The names of what the pause/resume comparison measures, as the report
// shows them. The headline operations first, then their parts.
const (
	phPause       = "pause (`client.Pause`)"
	phResume      = "resume (`client.Resume`)"
	phCheckpoint  = "pause: `runsc checkpoint`"
	phFullStop    = "pause, full stop: `runsc checkpoint` + wait until stopped + `runsc delete --force`"
	phRawResume   = "resume: re-address eth0 (`ip -batch`) + `runsc restore`"
	phWaitStopped = "pause: wait until `runsc state` no longer says running"
	phDelete      = "pause: `runsc delete --force`"
	phReaddress   = "resume: re-address eth0 (`ip -n NS -batch`)"
	phRestore     = "resume: `runsc restore --detach`"
	phFirstGet    = "resume: (first HTTP GET after it, not in the total)"
	phPauseTook   = "pause: (the daemon's own \"took\", from its log)"
	phResumeTook  = "resume: (the daemon's own \"took\", from its log)"
)

// rawPauser pauses and resumes one raw runsc sandbox running the Node.js
// server the way the daemon does it, without the daemon.
type rawPauser struct {
	r      *rawRunsc
	b      *rawBox
	holdMB int
	img    string  // the checkpoint image directory
	images []int64 // the size of every image written
}

func (p *rawPauser) cycler(name string) cycler {
	return cycler{name: name, ops: []op{p.pause, p.resume}}
}

// pause checkpoints the sandbox, then waits until it has stopped and
// deletes it, so that its ID can be restored.
func (p *rawPauser) pause(ctx context.Context) ([]phase, error) {
	if err := os.RemoveAll(p.img); err != nil {
		return nil, fmt.Errorf("removing the last image: %w", err)
	}
	if err := sleep(ctx, quiesceTime); err != nil { // the bench's last connection closes
		return nil, err
	}
	t0 := time.Now()
	if err := p.r.checkpoint(ctx, p.b, p.img); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := p.r.waitStopped(ctx, p.b); err != nil {
		return nil, err
	}
	t2 := time.Now()
	if err := p.r.deleteContainer(ctx, p.b); err != nil {
		return nil, err
	}
	t3 := time.Now()
	p.images = append(p.images, dirSize(p.img))
	return []phase{{phCheckpoint, t1.Sub(t0)}, {phFullStop, t3.Sub(t0)},
		{phWaitStopped, t2.Sub(t1)}, {phDelete, t3.Sub(t2)}}, nil
}

// resume puts the address back and restores the sandbox, then (untimed)
// checks that the server answers.
func (p *rawPauser) resume(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	if err := p.r.net.readdress(ctx, p.b.ns, p.b.ip); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := p.r.restore(ctx, p.b, p.img); err != nil {
		return nil, err
	}
	t2 := time.Now()
	get, err := waitNode(ctx, p.b.ip.String(), p.holdMB, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("after restore: %w (console: %s)", err, p.r.console(p.b))
	}
	return []phase{{phRawResume, t2.Sub(t0)}, {phReaddress, t1.Sub(t0)}, {phRestore, t2.Sub(t1)}, {phFirstGet, get}}, nil
}

// rtPauser pauses and resumes one runtools sandbox running the Node.js
// server through the Go SDK.
type rtPauser struct {
	s      *server
	sb     *client.Sandbox
	holdMB int
	images []int64 // the image sizes the daemon logged
}

func (p *rtPauser) cycler(name string) cycler {
	return cycler{name: name, ops: []op{p.pause, p.resume}}
}

func (p *rtPauser) pause(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	sb, err := p.s.c.Pause(ctx, p.sb.ID)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("pausing %s: %w", p.sb.ID, err)
	}
	if sb.State != client.StatePaused {
		return nil, fmt.Errorf("pausing %s: state %s after Pause", p.sb.ID, sb.State)
	}
	ph := append([]phase{{phPause, t1.Sub(t0)}}, imagePhases(filepath.Join(p.s.sandboxDir(p.sb.ID), "pause"), t0, t1, pauseImagePhases)...)
	if l, ok := p.s.lastLogged("sandbox paused", p.sb.ID); ok {
		ph = append(ph, phase{phPauseTook, l.took})
		p.images = append(p.images, l.bytes)
	}
	return ph, nil
}

func (p *rtPauser) resume(ctx context.Context) ([]phase, error) {
	t0 := time.Now()
	sb, err := p.s.c.Resume(ctx, p.sb.ID)
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("resuming %s: %w", p.sb.ID, err)
	}
	if sb.State != client.StateRunning {
		return nil, fmt.Errorf("resuming %s: state %s after Resume", p.sb.ID, sb.State)
	}
	get, err := waitNode(ctx, p.sb.IP, p.holdMB, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("after resume: %w", err)
	}
	ph := append([]phase{{phResume, t1.Sub(t0)}}, p.s.restorePhases("resume", p.sb.ID, t0, t1)...)
	if l, ok := p.s.lastLogged("sandbox resumed", p.sb.ID); ok {
		ph = append(ph, phase{phResumeTook, l.took})
	}
	return append(ph, phase{phFirstGet, get}), nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
