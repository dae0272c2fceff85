package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
)

type identityKey struct{}

func identity(ctx context.Context) auth.Identity {
	id, _ := ctx.Value(identityKey{}).(auth.Identity)
	return id
}

// dummyHash keeps the cost of checking an unknown key the same as a known one.
var _, dummyHash = auth.Hash("runtools-dummy-key")

// authenticated lets a request through only with a valid API key.
func (s *Server) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.authenticate(r)
		if err != nil {
			drain(r.Body)
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

func (s *Server) authenticate(r *http.Request) (auth.Identity, error) {
	h := r.Header.Get("Authorization")
	if h == "" && s.cluster != nil {
		if team, ok := s.cluster.ActsFor(r); ok {
			return s.nodeIdentity(r.Context(), team)
		}
	}
	if h == "" {
		h = protocolKey(r)
	}
	scheme, key, ok := strings.Cut(h, " ")
	if h == "" {
		return auth.Identity{}, fmt.Errorf("%w: missing API key: send Authorization: Bearer <key> (or, on a WebSocket, the subprotocol bearer.<key>)", errdefs.ErrUnauthenticated)
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return auth.Identity{}, fmt.Errorf("%w: malformed Authorization header: want Bearer <key>", errdefs.ErrUnauthenticated)
	}
	lookup, _ := auth.Hash(key)
	keys, err := s.keys.KeysByLookup(r.Context(), lookup)
	if err != nil {
		return auth.Identity{}, fmt.Errorf("checking API key: %w", err)
	}
	for _, k := range keys {
		if auth.Verify(key, k.Hash) {
			return auth.Identity{TeamID: k.TeamID, TeamName: k.TeamName, KeyID: k.ID, KeyName: k.Name, Admin: k.Admin}, nil
		}
	}
	if len(keys) == 0 {
		auth.Verify(key, dummyHash)
	}
	return auth.Identity{}, fmt.Errorf("%w: invalid API key", errdefs.ErrUnauthenticated)
}

// protocolKey reads the key a browser sends on a WebSocket, which cannot
// carry an Authorization header, as the subprotocol bearer.<key> (next to
// the protocol it speaks, e.g. "runtools, bearer.rt_..."), and returns it
// as the header would say it. Keys never travel in URLs, which get logged.
func protocolKey(r *http.Request) string {
	if !isWebSocket(r) {
		return ""
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if key, ok := strings.CutPrefix(strings.TrimSpace(p), "bearer."); ok {
				return "Bearer " + key
			}
		}
	}
	return ""
}

func requireAdmin(ctx context.Context) error {
	if !identity(ctx).Admin {
		return fmt.Errorf("%w: this needs an admin key", errdefs.ErrPermissionDenied)
	}
	return nil
}

// nodeIdentity is who a node's own request (a drain's move) acts as: the
// team of the sandbox it moves, with no admin rights.
func (s *Server) nodeIdentity(ctx context.Context, teamID string) (auth.Identity, error) {
	t, err := s.keys.TeamByName(ctx, teamID)
	if err != nil {
		return auth.Identity{}, fmt.Errorf("%w: a node acted for team %s: %v", errdefs.ErrUnauthenticated, teamID, err)
	}
	return auth.Identity{TeamID: t.ID, TeamName: t.Name, KeyName: "cluster node"}, nil
}
