package apiserver

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
)

var teamNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !teamNamePattern.MatchString(req.Name) {
		return invalid("team name %q must be 1-63 lowercase letters, digits and dashes", req.Name)
	}
	t := auth.Team{ID: "team-" + auth.Random(12), Name: req.Name, CreatedAt: s.now().UTC()}
	if err := s.keys.CreateTeam(r.Context(), t); err != nil {
		return err
	}
	out, err := s.teamToWire(r.Context(), t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	teams, err := s.keys.Teams(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Teams []client.Team `json:"teams"`
	}{Teams: []client.Team{}}
	for _, t := range teams {
		if id.Admin || t.ID == id.TeamID {
			wt, err := s.teamToWire(r.Context(), t)
			if err != nil {
				return err
			}
			out.Teams = append(out.Teams, wt)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

var keyNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateKeyRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !keyNamePattern.MatchString(req.Name) {
		return invalid("key name %q must be 1-63 letters, digits, dots, dashes or underscores", req.Name)
	}
	id := identity(r.Context())
	team := auth.Team{ID: id.TeamID, Name: id.TeamName}
	if req.Team != "" && req.Team != id.TeamName && req.Team != id.TeamID {
		if err := requireAdmin(r.Context()); err != nil {
			return fmt.Errorf("creating a key for another team: %w", err)
		}
		t, err := s.keys.TeamByName(r.Context(), req.Team)
		if err != nil {
			return err
		}
		team = t
	}
	if req.Admin && !id.Admin {
		return fmt.Errorf("%w: only an admin key can create an admin key", errdefs.ErrPermissionDenied)
	}
	secret := auth.NewKey()
	lookup, hash := auth.Hash(secret)
	k := auth.Key{ID: "key-" + auth.Random(12), TeamID: team.ID, TeamName: team.Name, Name: req.Name,
		Lookup: lookup, Hash: hash, Admin: req.Admin, CreatedAt: s.now().UTC()}
	if err := s.keys.CreateKey(r.Context(), k); err != nil {
		return err
	}
	out := wireKey(k)
	out.Secret = secret
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	team := id.TeamID
	if id.Admin {
		team = ""
	}
	keys, err := s.keys.Keys(r.Context(), team)
	if err != nil {
		return err
	}
	return writeList(w, "keys", keys, wireKey)
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) error {
	id := identity(r.Context())
	team := id.TeamID
	if id.Admin {
		team = ""
	}
	if err := s.keys.DeleteKey(r.Context(), team, r.PathValue("ref")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func wireKey(k auth.Key) client.APIKey {
	return client.APIKey{ID: k.ID, Name: k.Name, Team: k.TeamName, Admin: k.Admin, CreatedAt: k.CreatedAt}
}
