package template

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// fakeStatus is a dpkg status file: busybox installed, a package removed
// with its configuration kept, and a long field with continuation lines.
const fakeStatus = `Package: busybox
Status: install ok installed
Priority: optional
Version: 1:1.35.0-4+b3
Description: Tiny utilities
 for small and embedded systems
 .
 Version: not a field

Package: firefox-esr
Status: deinstall ok config-files
Version: 140.0esr-1

Package: libc6
Status: install ok installed
Version: 2.36-9+deb12u13
`

// writeFakeInstall gives a rootfs a dpkg status file and two global npm
// packages, one of them scoped, and a directory that is no package.
func writeFakeInstall(rootfs string) error {
	files := map[string]string{
		dpkgStatus: fakeStatus,
		filepath.Join(npmGlobalDir, "node", npmPackageFile):           `{"name": "node", "version": "22.21.1"}`,
		filepath.Join(npmGlobalDir, "@scope", "tool", npmPackageFile): `{"version": "1.2.3"}`,
		filepath.Join(npmGlobalDir, ".bin", "node"):                   "#!/bin/sh\n",
	}
	for name, content := range files {
		path := filepath.Join(rootfs, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func TestInstalledVersions(t *testing.T) {
	rootfs := t.TempDir()
	if err := writeFakeInstall(rootfs); err != nil {
		t.Fatal(err)
	}
	r := Recipe{Packages: []string{"busybox", "firefox-esr", "not-there"}}
	got, err := installedVersions(rootfs, r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"busybox": "1:1.35.0-4+b3", "npm:node": "22.21.1", "npm:@scope/tool": "1.2.3"}
	if !maps.Equal(got, want) {
		t.Errorf("versions %v, want %v (a removed package and a missing one are left out)", got, want)
	}

	info := Info{Packages: got, Tracked: []string{"npm:node", "firefox-esr", "busybox"}}
	if line := info.KeyVersions(); line != "node 22.21.1, busybox 1:1.35.0-4+b3" {
		t.Errorf("key versions %q", line)
	}
}

func TestInstalledVersionsOfAnEmptyRootfs(t *testing.T) {
	got, err := installedVersions(t.TempDir(), Recipe{Packages: []string{"busybox"}})
	if err != nil || len(got) != 0 {
		t.Errorf("a rootfs without dpkg or npm: %v, %v", got, err)
	}
}

func TestBuildRecordsVersions(t *testing.T) {
	m := newTestManager(t, t.TempDir(), &fakeBuilder{})
	info, err := m.Build(context.Background(), "tiny", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Packages["busybox"] != "1:1.35.0-4+b3" || info.Packages["npm:node"] != "22.21.1" {
		t.Errorf("built template's packages: %v", info.Packages)
	}
	again, err := m.Get(context.Background(), "tiny")
	if err != nil || !maps.Equal(again.Packages, info.Packages) {
		t.Errorf("packages read back from meta.json: %v, %v", again.Packages, err)
	}
}

func TestRebuildMakesANewBuildAndKeepsTheOld(t *testing.T) {
	dir := t.TempDir()
	fb := &fakeBuilder{}
	m := newTestManager(t, dir, fb)
	ctx := context.Background()
	first, err := m.Build(ctx, "tiny", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Build(ctx, "tiny", nil); err != nil || fb.calls.Load() != 1 {
		t.Fatalf("a second Build: %v, %d builds, want 1", err, fb.calls.Load())
	}

	second, err := m.Rebuild(ctx, "tiny", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fb.calls.Load() != 2 || second.RootFS == first.RootFS || second.Recipe == first.Recipe {
		t.Fatalf("rebuild: %d builds, rootfs %s then %s", fb.calls.Load(), first.RootFS, second.RootFS)
	}
	if _, err := os.Stat(first.RootFS); err != nil {
		t.Errorf("the old build went away at once (sandboxes may run on it): %v", err)
	}
	// A new Manager (a restarted server) finds the rebuilt one current.
	if got, err := newTestManager(t, dir, fb).Get(ctx, "tiny"); err != nil || got.RootFS != second.RootFS {
		t.Errorf("after a restart: %s, %v; want %s", got.RootFS, err, second.RootFS)
	}

	// Prune drops the old build only once nothing uses it.
	inUse := func(rootfs string) bool { return rootfs == first.RootFS }
	if err := m.Prune(ctx, inUse); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first.RootFS); err != nil {
		t.Errorf("prune removed a build in use: %v", err)
	}
	if err := m.Prune(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first.RootFS); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("prune kept the old build: %v", err)
	}
	if _, err := os.Stat(second.RootFS); err != nil {
		t.Errorf("prune removed the current build: %v", err)
	}
}

func TestFailedRebuildKeepsTheOldBuildCurrent(t *testing.T) {
	fb := &fakeBuilder{}
	m := newTestManager(t, t.TempDir(), fb)
	ctx := context.Background()
	first, err := m.Build(ctx, "tiny", nil)
	if err != nil {
		t.Fatal(err)
	}
	fb.fail = errors.New("apt-get: mirror unreachable")
	if _, err := m.Rebuild(ctx, "tiny", nil); err == nil {
		t.Fatal("a failing rebuild succeeded")
	}
	got, err := m.Get(ctx, "tiny")
	if err != nil || got.Status != StatusReady || got.RootFS != first.RootFS {
		t.Errorf("after a failed rebuild: %+v, %v; want the first build, ready", got, err)
	}
}
