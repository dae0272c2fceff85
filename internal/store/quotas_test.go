package store

import (
	"errors"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/quota"
	"github.com/runtools/runtools/internal/sandbox"
)

// A team's own limits start unset (the server's defaults), are recorded
// all five at once, and its stored bytes are its ready snapshots and every
// version of its custom templates, not another team's.
func TestTeamQuotas(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		ctx := t.Context()
		s := withTeams(t, tdb)
		name, own, err := s.TeamQuota(ctx, "team-a")
		if err != nil || name != "a" || own != quota.NoOverride {
			t.Fatalf("a new team's limits: %q %+v %v", name, own, err)
		}
		set := quota.Limits{Sandboxes: 2, VCPUs: 0, MemoryMB: 8192, DiskBytes: 50 << 30, Builds: quota.Unset}
		if err := s.SetTeamQuota(ctx, "team-a", set); err != nil {
			t.Fatal(err)
		}
		if _, own, err = s.TeamQuota(ctx, "team-a"); err != nil || own != set {
			t.Errorf("read back %+v, %v; want %+v", own, err, set)
		}
		if _, own, _ = s.TeamQuota(ctx, "team-b"); own != quota.NoOverride {
			t.Errorf("team b's limits changed with a's: %+v", own)
		}
		if err := s.SetTeamQuota(ctx, "team-nope", set); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("limits of a team that is not: %v", err)
		}
		if _, _, err := s.TeamQuota(ctx, "team-nope"); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("limits of a team that is not: %v", err)
		}

		sb := newSandbox("team-a", "web", "10.88.0.2")
		if err := s.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		for i, sn := range []*sandbox.Snapshot{
			{Name: "ready", Ready: true, Size: 3 << 30},
			{Name: "half-written", Ready: false, Size: 1 << 30},
		} {
			sn.ID, sn.SandboxID, sn.TeamID, sn.Secret, sn.CreatedAt = sandbox.NewSnapshotID(), sb.ID, "team-a", "s", time.Now().Add(time.Duration(i))
			if err := s.InsertSnapshot(ctx, sn); err != nil {
				t.Fatal(err)
			}
		}
		for v, team := range []string{"team-a", "team-a", "team-b"} {
			tpl := &build.Template{ID: "tpl-" + string(rune('a'+v)), TeamID: team, Name: "app-" + team, Version: v + 1, CreatedAt: time.Now(), Size: 5 << 20}
			if err := s.InsertTemplate(ctx, tpl); err != nil {
				t.Fatal(err)
			}
		}
		d, err := s.StoredBytes(ctx, "team-a")
		if want := (quota.Disk{Snapshots: 3 << 30, Templates: 10 << 20}); err != nil || d != want {
			t.Errorf("team a stores %+v, %v; want %+v", d, err, want)
		}
		if d, _ := s.StoredBytes(ctx, "team-b"); d != (quota.Disk{Templates: 5 << 20}) {
			t.Errorf("team b stores %+v", d)
		}
	})
}
