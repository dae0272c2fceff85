package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// fakeVolumes keeps volumes as plain directories.
type fakeVolumes struct {
	mu      sync.Mutex
	dir     string
	mounted map[string]bool
}

func (f *fakeVolumes) Create(_ context.Context, id string, _ int) error {
	return os.MkdirAll(filepath.Join(f.dir, id), 0o755)
}
func (f *fakeVolumes) Mount(id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := os.Stat(filepath.Join(f.dir, id)); err != nil {
		return "", err
	}
	f.mounted[id] = true
	return filepath.Join(f.dir, id), nil
}
func (f *fakeVolumes) Remove(id string) error { return os.RemoveAll(filepath.Join(f.dir, id)) }
func (f *fakeVolumes) Usage(string) (sandbox.VolumeUsage, error) {
	return sandbox.VolumeUsage{SizeBytes: 1 << 20}, nil
}
func (f *fakeVolumes) List() ([]string, error) {
	entries, err := os.ReadDir(f.dir)
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	return ids, err
}

func withVolumes(t *testing.T) (*env, *fakeVolumes) {
	e := newEnv(t)
	if err := e.st.CreateTeam(context.Background(), auth.Team{ID: "team-b", Name: "b", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v := &fakeVolumes{dir: t.TempDir(), mounted: map[string]bool{}}
	e.mgr.SetVolumes(v)
	return e, v
}

func TestVolumeMountsReachTheRuntime(t *testing.T) {
	e, fv := withVolumes(t)
	ctx := context.Background()
	vol, err := e.mgr.CreateVolume(ctx, "team-a", "data", 64)
	if err != nil {
		t.Fatal(err)
	}
	// The fake agent never answers, so the create fails after the start:
	// what the runtime was given is what counts here.
	_, _ = e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Volumes: []sandbox.VolumeMount{
		{Name: "data", Path: "/mnt/data/"}, {Name: vol.ID, Path: "/ro", ReadOnly: true}}})
	want := []sandbox.Bind{{Source: filepath.Join(fv.dir, vol.ID), Destination: "/mnt/data"},
		{Source: filepath.Join(fv.dir, vol.ID), Destination: "/ro", ReadOnly: true}}
	if !slices.Equal(e.rt.last.Binds, want) {
		t.Errorf("binds %+v, want %+v", e.rt.last.Binds, want)
	}
	all, _ := e.st.ListSandboxes(ctx, "team-a", true)
	if len(all) != 1 || len(all[0].Volumes) != 2 || all[0].Volumes[1].VolumeID != vol.ID || all[0].Volumes[1].Name != "data" {
		t.Errorf("recorded mounts: %+v", all[0].Volumes)
	}
}

func TestVolumeMountValidation(t *testing.T) {
	e, _ := withVolumes(t)
	ctx := context.Background()
	if _, err := e.mgr.CreateVolume(ctx, "team-a", "data", 64); err != nil {
		t.Fatal(err)
	}
	for _, mounts := range [][]sandbox.VolumeMount{
		{{Name: "data", Path: "relative"}}, {{Name: "data", Path: "/"}}, {{Name: "data", Path: "/proc/x"}},
		{{Name: "data", Path: "/sys"}}, {{Name: "data", Path: "/dev/x"}}, {{Name: "data", Path: "/a/../b"}},
		{{Name: "data", Path: "/.runtools/x"}}, {{Name: "", Path: "/x"}}, {{Name: "data", Path: "/a:b"}},
		{{Name: "data", Path: "/a"}, {Name: "data", Path: "/a/b"}},
	} {
		_, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Volumes: mounts})
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("mounts %+v: %v, want invalid argument", mounts, err)
		}
	}
	// Another team's volume, or none, is not found, and nothing is left.
	other, err := e.mgr.CreateVolume(ctx, "team-b", "theirs", 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"theirs", other.ID, "nope"} {
		_, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Volumes: []sandbox.VolumeMount{{Name: ref, Path: "/mnt"}}})
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("mounting %s: %v, want not found", ref, err)
		}
	}
	if left := e.leftovers(t); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestRemoveVolume(t *testing.T) {
	e, fv := withVolumes(t)
	ctx := context.Background()
	vol, err := e.mgr.CreateVolume(ctx, "team-a", "data", 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.CreateVolume(ctx, "team-a", "data", 64); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a second volume named data: %v", err)
	}
	if ids, _ := fv.List(); len(ids) != 1 {
		t.Errorf("volumes on the host: %v", ids)
	}
	if n, err := e.mgr.TeamVolumeBytes(ctx, "team-a"); err != nil || n != 64<<20 {
		t.Errorf("team bytes %d %v", n, err)
	}
	user := &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: "team-a", Template: "base", State: sandbox.Stopped, StopReason: "stopped",
		Volumes: []sandbox.VolumeMount{{VolumeID: vol.ID, Name: "data", Path: "/mnt"}}}
	if err := e.st.InsertSandbox(ctx, user); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.RemoveVolume(ctx, "team-b", "data"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("another team removes it: %v", err)
	}
	err = e.mgr.RemoveVolume(ctx, "team-a", "data")
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), user.ID) {
		t.Errorf("removing a volume a stopped sandbox mounts: %v", err)
	}
	user.State = sandbox.Destroyed
	if err := e.st.UpdateSandbox(ctx, user); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.RemoveVolume(ctx, "team-a", "data"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := fv.List(); len(ids) != 0 {
		t.Errorf("volumes on the host after rm: %v", ids)
	}
}

// TestRecoverMountsVolumes: a restart mounts every recorded volume and
// removes images without a record.
func TestRecoverMountsVolumes(t *testing.T) {
	e, fv := withVolumes(t)
	ctx := context.Background()
	vol, err := e.mgr.CreateVolume(ctx, "team-a", "data", 64)
	if err != nil {
		t.Fatal(err)
	}
	fv.mounted = map[string]bool{}
	if err := fv.Create(ctx, "vol-orphan00000", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if ids, _ := fv.List(); !fv.mounted[vol.ID] || len(ids) != 1 || ids[0] != vol.ID {
		t.Errorf("after recovery: mounted %v, on the host %v", fv.mounted, ids)
	}
}
