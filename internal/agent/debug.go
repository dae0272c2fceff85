package agent

import (
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

const maxSpawn = 1000

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, agentapi.Health{OK: true, UptimeMS: time.Since(s.started).Milliseconds()})
	return nil
}

// handleSpawn times n sequential fork+exec+wait of `true`, started the way
// every exec is (own process group, through the spawner).
func (s *Server) handleSpawn(w http.ResponseWriter, r *http.Request) error {
	n := 20
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxSpawn {
			return fmt.Errorf("%w: n must be between 1 and %d", errdefs.ErrInvalidArgument, maxSpawn)
		}
	}
	path, err := lookPath("true", defaultPath)
	if err != nil {
		return err
	}
	res := agentapi.SpawnResult{Nanos: make([]int64, 0, n)}
	for range n {
		if err := r.Context().Err(); err != nil {
			return nil // the caller is gone
		}
		cmd := &exec.Cmd{
			Path:        path,
			Args:        []string{"true"},
			Env:         []string{"PATH=" + defaultPath},
			Dir:         "/",
			SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
		}
		t0 := time.Now()
		if err := s.spawner.start(cmd); err != nil {
			return startError("true", err)
		}
		if err := s.spawner.wait(cmd); err != nil {
			return fmt.Errorf("running true: %w", err)
		}
		res.Nanos = append(res.Nanos, time.Since(t0).Nanoseconds())
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
