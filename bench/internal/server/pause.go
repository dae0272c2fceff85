package server

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
	"github.com/runtools/runtools/client"
)

// Pause pauses sb through the Go SDK, timed: the call, its parts told from
// the image's files, and the daemon's own "took" from its log. It returns
// them and the size of the image the daemon logged, 0 if it logged none.
func (s *Server) Pause(ctx context.Context, sb *client.Sandbox) ([]stats.Phase, int64, error) {
	t0 := time.Now()
	err := sb.Pause(ctx)
	t1 := time.Now()
	if err != nil {
		return nil, 0, fmt.Errorf("pausing %s: %w", sb.ID, err)
	}
	if sb.State != client.StatePaused {
		return nil, 0, fmt.Errorf("pausing %s: state %s after Pause", sb.ID, sb.State)
	}
	img := filepath.Join(s.SandboxDir(sb.ID), "pause")
	ph := append([]stats.Phase{{Name: PhPause, D: t1.Sub(t0)}}, ImagePhases(img, t0, t1, PauseImagePhases)...)
	l, ok := s.LastLogged("sandbox paused", sb.ID)
	if !ok {
		return ph, 0, nil
	}
	return append(ph, stats.Phase{Name: PhPauseTook, D: l.Took}), l.Bytes, nil
}

// Resume resumes sb through the Go SDK, and returns when it made the call
// and when the call returned: the caller times the resume, and what it
// waits for after, with ResumeParts.
func (s *Server) Resume(ctx context.Context, sb *client.Sandbox) (t0, t1 time.Time, err error) {
	t0 = time.Now()
	err = sb.Resume(ctx)
	t1 = time.Now()
	if err != nil {
		return t0, t1, fmt.Errorf("resuming %s: %w", sb.ID, err)
	}
	if sb.State != client.StateRunning {
		return t0, t1, fmt.Errorf("resuming %s: state %s after Resume", sb.ID, sb.State)
	}
	return t0, t1, nil
}

// ResumeParts are the parts of a resume of sandbox id, made at t0 and
// returned at t1, that the daemon left on disk (see RestorePhases), then
// its own "took" from its log.
func (s *Server) ResumeParts(id string, t0, t1 time.Time) []stats.Phase {
	ph := s.RestorePhases("resume", id, t0, t1)
	if l, ok := s.LastLogged("sandbox resumed", id); ok {
		ph = append(ph, stats.Phase{Name: PhResumeTook, D: l.Took})
	}
	return ph
}
