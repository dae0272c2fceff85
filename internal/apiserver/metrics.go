package apiserver

import (
	"fmt"
	"net/http"

	"github.com/runtools/runtools/internal/errdefs"
)

// SetMetrics serves h, the Prometheus metrics, at GET /metrics to admin
// keys. Without it that route answers 404.
func (s *Server) SetMetrics(h http.Handler) { s.prom = h }

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	if s.prom == nil {
		return fmt.Errorf("%w: metrics are not served by this server", errdefs.ErrNotFound)
	}
	s.prom.ServeHTTP(w, r)
	return nil
}
