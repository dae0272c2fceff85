package apiserver

import (
	"context"
	"fmt"
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/quota"
)

// Quotas keeps the teams' limits and counts their use (package quota's
// Book).
type Quotas interface {
	Limits(ctx context.Context, teamID string) (string, quota.Limits, error)
	Own(ctx context.Context, teamID string) (string, quota.Limits, error)
	SetOwn(ctx context.Context, teamID string, own quota.Limits) error
	Usage(ctx context.Context, teamID string) (quota.Usage, error)
}

// SetQuotas shows the teams' limits and use, and lets admins change them.
func (s *Server) SetQuotas(q Quotas) { s.quotas = q }

func (s *Server) needQuotas() error {
	if s.quotas == nil {
		return fmt.Errorf("%w: this server keeps no quotas", errdefs.ErrUnavailable)
	}
	return nil
}

// visibleTeam finds a team by name or ID: any team for an admin key, else
// only the caller's own (another is not found).
func (s *Server) visibleTeam(ctx context.Context, ref string) (auth.Team, error) {
	id := identity(ctx)
	t, err := s.keys.TeamByName(ctx, ref)
	if err == nil && !id.Admin && t.ID != id.TeamID {
		err = fmt.Errorf("%w: no team %q", errdefs.ErrNotFound, ref)
	}
	return t, err
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) error {
	t, err := s.visibleTeam(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	out, err := s.teamToWire(r.Context(), t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// updateTeam changes a team's own limits; fields left out stay.
func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	if err := s.needQuotas(); err != nil {
		return err
	}
	var req client.UpdateTeamRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	t, err := s.keys.TeamByName(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	_, own, err := s.quotas.Own(r.Context(), t.ID)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		in   *int64
		to   *int64
	}{
		{"max_sandboxes", req.MaxSandboxes, &own.Sandboxes}, {"max_vcpus", req.MaxVCPUs, &own.VCPUs},
		{"max_memory_mb", req.MaxMemoryMB, &own.MemoryMB}, {"max_disk_bytes", req.MaxDiskBytes, &own.DiskBytes},
		{"max_builds", req.MaxBuilds, &own.Builds},
	} {
		if f.in == nil {
			continue
		}
		if *f.in < quota.Unset {
			return invalid("%s must be a limit, 0 for none or -1 for the server's default, got %d", f.name, *f.in)
		}
		*f.to = *f.in
	}
	if err := s.quotas.SetOwn(r.Context(), t.ID, own); err != nil {
		return err
	}
	s.log.Info("team limits changed", "team", t.Name, "by", identity(r.Context()).KeyName)
	out, err := s.teamToWire(r.Context(), t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// teamToWire describes a team with its limits, when the server keeps any.
func (s *Server) teamToWire(ctx context.Context, t auth.Team) (client.Team, error) {
	out := client.Team{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
	if s.quotas == nil {
		return out, nil
	}
	_, l, err := s.quotas.Limits(ctx, t.ID)
	if err != nil {
		return out, err
	}
	out.Limits = &client.TeamLimits{MaxSandboxes: l.Sandboxes, MaxVCPUs: l.VCPUs, MaxMemoryMB: l.MemoryMB,
		MaxDiskBytes: l.DiskBytes, MaxBuilds: l.Builds}
	return out, nil
}

// teamsUsage shows what teams use against their limits: the caller's team, or
// every team (or the one ?team= names) for an admin key.
func (s *Server) teamsUsage(w http.ResponseWriter, r *http.Request) error {
	if err := s.needQuotas(); err != nil {
		return err
	}
	id := identity(r.Context())
	var teams []auth.Team
	switch ref := r.URL.Query().Get("team"); {
	case ref != "":
		t, err := s.visibleTeam(r.Context(), ref)
		if err != nil {
			return err
		}
		teams = []auth.Team{t}
	case id.Admin:
		all, err := s.keys.Teams(r.Context())
		if err != nil {
			return err
		}
		teams = all
	default:
		teams = []auth.Team{{ID: id.TeamID, Name: id.TeamName}}
	}
	out := struct {
		Teams []client.TeamUsage `json:"teams"`
	}{Teams: []client.TeamUsage{}}
	for _, t := range teams {
		u, err := s.teamUsage(r.Context(), t)
		if err != nil {
			return err
		}
		out.Teams = append(out.Teams, u)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) teamUsage(ctx context.Context, t auth.Team) (client.TeamUsage, error) {
	_, l, err := s.quotas.Limits(ctx, t.ID)
	if err != nil {
		return client.TeamUsage{}, err
	}
	u, err := s.quotas.Usage(ctx, t.ID)
	if err != nil {
		return client.TeamUsage{}, err
	}
	out := client.TeamUsage{Team: t.Name, Quotas: []client.Quota{}, Disk: client.DiskUsage{PausedBytes: u.Disk.Paused,
		SnapshotBytes: u.Disk.Snapshots, VolumeBytes: u.Disk.Volumes, TemplateBytes: u.Disk.Templates}}
	for _, it := range quota.Report(l, u) {
		out.Quotas = append(out.Quotas, client.Quota{Name: it.Name, Unit: it.Unit, Used: it.Used, Limit: it.Limit})
	}
	return out, nil
}
