package apiserver

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/errdefs"
)

func (s *Server) exposePort(w http.ResponseWriter, r *http.Request) error {
	var req client.PortRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.Expose(r.Context(), id.TeamID, r.PathValue("ref"), req.Port, true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

func (s *Server) unexposePort(w http.ResponseWriter, r *http.Request) error {
	port, err := strconv.Atoi(r.PathValue("port"))
	if err != nil {
		return invalid("port must be a number, got %q", r.PathValue("port"))
	}
	id := identity(r.Context())
	sb, err := s.sandboxes.Expose(r.Context(), id.TeamID, r.PathValue("ref"), port, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wire(sb, id.TeamName))
}

// maxLinkTTL bounds how long a signed link stays valid: a week.
const maxLinkTTL = 7 * 24 * time.Hour

func (s *Server) signedLink(w http.ResponseWriter, r *http.Request) error {
	var req client.LinkRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	// Checked in seconds: the multiplication could overflow into the range.
	if req.TTL < 0 || req.TTL > int(maxLinkTTL/time.Second) {
		return invalid("ttl_seconds must be between 1 and %d", int(maxLinkTTL/time.Second))
	}
	ttl := time.Duration(req.TTL) * time.Second
	if req.TTL == 0 {
		ttl = time.Hour
	}
	sb, err := s.sandboxes.Get(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if s.urls == nil {
		return fmt.Errorf("%w: the dev-server proxy is off on this server (--proxy-listen)", errdefs.ErrUnavailable)
	}
	exposed := false
	for _, p := range sb.Ports {
		exposed = exposed || p == req.Port
	}
	if !exposed {
		return invalid("port %d is not exposed; expose it first (runtools sandbox expose %s %d)", req.Port, sb.ID, req.Port)
	}
	return writeJSON(w, http.StatusOK, client.Link{URL: s.urls.SignedURL(sb.ID, req.Port, ttl), ExpiresAt: s.now().Add(ttl).UTC()})
}
