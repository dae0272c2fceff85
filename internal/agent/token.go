package agent

import (
	"fmt"
	"net/http"
	"os"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
)

func (s *Server) setToken(token string) {
	b := []byte("Bearer " + token)
	s.auth.Store(&b)
}

// handleToken replaces the agent's token. A sandbox restored from a
// snapshot (a rollback, or a fork that is a new sandbox) still holds the
// token of the moment the snapshot was taken; the daemon gives it a fresh
// one at once. The request may carry random bytes, which are mixed into the
// guest's entropy pool, since a fork starts with its parent's memory.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	var req agentapi.TokenRequest
	if err := decodeRequest(w, r, 64<<10, "token", &req); err != nil {
		return err
	}
	if len(req.Token) < 32 {
		return fmt.Errorf("%w: a token needs at least 32 characters", errdefs.ErrInvalidArgument)
	}
	if len(req.Seed) > 0 {
		if f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0); err == nil {
			_, _ = f.Write(req.Seed)
			f.Close()
		}
	}
	s.setToken(req.Token)
	s.log.Info("token replaced")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
