package store

import (
	"errors"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// TestVolumes: volumes are a team's own (another team's is not found),
// names are unique per team, sizes add up per team, and a sandbox's
// volume mounts are kept with it.
func TestVolumes(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		s, ctx := withTeams(t, tdb), t.Context()
		now := time.Now().UTC().Truncate(time.Millisecond)
		data := &sandbox.Volume{ID: sandbox.NewVolumeID(), TeamID: "team-a", Name: "data", SizeMB: 1024, CreatedAt: now}
		for _, v := range []*sandbox.Volume{data,
			{ID: sandbox.NewVolumeID(), TeamID: "team-a", Name: "cache", SizeMB: 64, CreatedAt: now},
			{ID: sandbox.NewVolumeID(), TeamID: "team-b", Name: "data", SizeMB: 10, CreatedAt: now},
		} {
			if err := s.InsertVolume(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		dup := &sandbox.Volume{ID: sandbox.NewVolumeID(), TeamID: "team-a", Name: "data", SizeMB: 1, CreatedAt: now}
		if err := s.InsertVolume(ctx, dup); !errors.Is(err, errdefs.ErrAlreadyExists) {
			t.Errorf("a second volume named data: %v", err)
		}
		for _, ref := range []string{"data", data.ID} {
			got, err := s.FindVolume(ctx, "team-a", ref)
			if err != nil || *got != *data {
				t.Errorf("FindVolume(%s): %+v %v, want %+v", ref, got, err, data)
			}
		}
		if _, err := s.FindVolume(ctx, "team-b", data.ID); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("another team's volume by ID: %v", err)
		}
		if list, err := s.ListVolumes(ctx, "team-a"); err != nil || len(list) != 2 || list[0].Name != "cache" {
			t.Errorf("team a's volumes: %v %v", list, err)
		}
		if all, err := s.ListVolumes(ctx, ""); err != nil || len(all) != 3 {
			t.Errorf("every volume: %d %v", len(all), err)
		}
		if mb, err := s.VolumeMB(ctx, "team-a"); err != nil || mb != 1088 {
			t.Errorf("team a's volumes take %d MB (%v), want 1088", mb, err)
		}
		if mb, err := s.VolumeMB(ctx, "team-none"); err != nil || mb != 0 {
			t.Errorf("a team without volumes: %d %v", mb, err)
		}
		sb := newSandbox("team-a", "user", "10.9.0.7")
		sb.Volumes = []sandbox.VolumeMount{{VolumeID: data.ID, Name: "data", Path: "/mnt/data", ReadOnly: true}}
		if err := s.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSandbox(ctx, sb.ID)
		if err != nil || len(got.Volumes) != 1 || got.Volumes[0] != sb.Volumes[0] {
			t.Errorf("the sandbox's volumes: %+v %v", got.Volumes, err)
		}
		if err := s.DeleteVolume(ctx, data.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindVolume(ctx, "team-a", "data"); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
	})
}
