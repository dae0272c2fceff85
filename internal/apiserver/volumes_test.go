package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// fakeVolumes keeps volume records in the store and their files in plain
// directories.
type fakeVolumes struct {
	st  *store.Store
	dir string
}

func (f *fakeVolumes) CreateVolume(ctx context.Context, teamID, name string, sizeMB int) (*sandbox.Volume, error) {
	v := &sandbox.Volume{ID: sandbox.NewVolumeID(), TeamID: teamID, Name: name, SizeMB: sizeMB, CreatedAt: time.Now()}
	if err := f.st.InsertVolume(ctx, v); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(f.dir, v.ID, "etc"), 0o755); err != nil {
		return nil, err
	}
	return v, os.WriteFile(filepath.Join(f.dir, v.ID, "etc", "hostname"), []byte("x"), 0o644)
}
func (f *fakeVolumes) GetVolume(ctx context.Context, teamID, ref string) (*sandbox.Volume, error) {
	return f.st.FindVolume(ctx, teamID, ref)
}
func (f *fakeVolumes) ListVolumes(ctx context.Context, teamID string) ([]*sandbox.Volume, error) {
	return f.st.ListVolumes(ctx, teamID)
}
func (f *fakeVolumes) RemoveVolume(ctx context.Context, teamID, ref string) error {
	_, err := f.st.FindVolume(ctx, teamID, ref) // kept: the routes test uses it after
	return err
}
func (f *fakeVolumes) VolumeUsage(*sandbox.Volume) (sandbox.VolumeUsage, error) {
	return sandbox.VolumeUsage{SizeBytes: 1 << 20, UsedBytes: 4096}, nil
}
func (f *fakeVolumes) VolumeUsers(context.Context, *sandbox.Volume) ([]string, error) {
	return nil, nil
}
func (f *fakeVolumes) VolumeDir(ctx context.Context, teamID, ref string) (string, error) {
	v, err := f.st.FindVolume(ctx, teamID, ref)
	if err != nil {
		return "", err
	}
	return filepath.Join(f.dir, v.ID), nil
}

// TestVolumeFilesStayInside: the files API of a volume reads and writes
// inside it, and refuses '..' and symlinks that lead out.
func TestVolumeFilesStayInside(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.volumes.dir, f.volumeA)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"out": secret, "abs": "/etc", "up": "../../.."} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("etc", filepath.Join(dir, "in")); err != nil {
		t.Fatal(err)
	}
	base := "/v1/volumes/data/files"
	if code, b := f.callRaw(t, "PUT", base+"?path=/a/b.txt&mkdirs=true", f.keyA, "hello"); code != http.StatusOK {
		t.Fatalf("write: %d %s", code, b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a/b.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("written file: %q %v", b, err)
	}
	if code, b := f.callRaw(t, "GET", base+"?path=a/b.txt", f.keyA, ""); code != http.StatusOK || b != "hello" {
		t.Errorf("read back: %d %q", code, b)
	}
	if resp := f.do(t, "PUT", base+"?path=/in/x", f.keyA, "through a link inside"); resp.StatusCode != http.StatusOK {
		t.Errorf("write through a symlink that stays inside: %d", resp.StatusCode)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", base + "?path=../secret"}, {"GET", base + "?path=/a/../../x"}, {"GET", base + "?path=/out"},
		{"GET", base + "?path=/abs/passwd"}, {"GET", base + "/list?path=/up"}, {"PUT", base + "?path=/abs/x"},
		{"PUT", base + "?path=/up/x&mkdirs=true"}, {"DELETE", base + "?path=/abs/hostname"}, {"POST", base + "/mkdir?path=/up/d"},
		{"GET", base + "/stat?path=/abs/passwd"},
	} {
		code, b := f.callRaw(t, c.method, c.path, f.keyA, "x")
		if code != http.StatusBadRequest || !strings.Contains(b, "leads out of the volume") {
			t.Errorf("%s %s: %d %s, want 400 saying it leads out", c.method, c.path, code, b)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "host secret" {
		t.Errorf("the host file changed: %q", b)
	}
	// A symlink itself can be described and removed.
	if resp := f.do(t, "GET", base+"/stat?path=/out", f.keyA, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("stat of the symlink itself: %d", resp.StatusCode)
	}
	var list struct{ Entries []client.FileInfo }
	_, b := f.callRaw(t, "GET", base+"/list?path=/", f.keyA, "")
	if err := json.Unmarshal([]byte(b), &list); err != nil || len(list.Entries) != 6 || list.Entries[0].Path != "/a" {
		t.Errorf("list: %s %v", b, err)
	}
	if resp := f.do(t, "DELETE", base+"?path=/out", f.keyA, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("remove the symlink: %d", resp.StatusCode)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("removing the symlink removed its target: %v", err)
	}
	if resp := f.do(t, "DELETE", base+"?path=/", f.keyA, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("remove the top: %d", resp.StatusCode)
	}
}

// callRaw makes a request and returns its status and its body as it is.
func (f *fixture) callRaw(t *testing.T, method, path, key, reqBody string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(reqBody))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
