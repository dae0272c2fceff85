package store

import (
	"errors"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/dockerfile"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/layer"
	"github.com/runtools/runtools/internal/sandbox"
)

func TestSandboxRecords(t *testing.T) { eachBackend(t, testSandboxRecords) }

func testSandboxRecords(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	sb := newSandbox("team-a", "web", "10.88.0.2")
	if err := s.InsertSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	// Names are unique per team among live sandboxes.
	if err := s.InsertSandbox(ctx, newSandbox("team-a", "web", "10.88.0.3")); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate name: %v", err)
	}
	if err := s.InsertSandbox(ctx, newSandbox("team-b", "web", "10.88.0.4")); err != nil {
		t.Errorf("same name in another team: %v", err)
	}
	// Addresses are unique among live sandboxes.
	if err := s.InsertSandbox(ctx, newSandbox("team-a", "", "10.88.0.2")); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate address: %v", err)
	}
	// Found by ID or name, only by its own team.
	for _, ref := range []string{sb.ID, "web"} {
		if got, err := s.FindSandbox(ctx, "team-a", ref); err != nil || got.ID != sb.ID || got.Env["A"] != "1" {
			t.Errorf("find %s: %+v %v", ref, got, err)
		}
		if _, err := s.FindSandbox(ctx, "team-b", sb.ID); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("other team finds %s: %v", ref, err)
		}
	}
	// A stopped sandbox keeps its name; a destroyed one frees its name
	// and address, and survives reopening.
	sb.State, sb.StopReason, sb.StoppedAt = sandbox.Stopped, "crashed", time.Now().UTC()
	if err := s.UpdateSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSandbox(ctx, newSandbox("team-a", "web", "10.88.0.3")); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a stopped sandbox's name taken again: %v", err)
	}
	sb.State, sb.StopReason = sandbox.Destroyed, "destroyed"
	if err := s.UpdateSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSandbox(ctx, newSandbox("team-a", "web", "10.88.0.2")); err != nil {
		t.Errorf("reuse after destroy: %v", err)
	}
	s.Close()
	s2 := tdb.open(t)
	got, err := s2.GetSandbox(ctx, sb.ID)
	if err != nil || got.State != sandbox.Destroyed || got.StopReason != "destroyed" || got.StoppedAt.IsZero() {
		t.Errorf("after reopen: %+v %v", got, err)
	}
	live, _ := s2.ListSandboxes(ctx, "team-a", false)
	all, _ := s2.ListSandboxes(ctx, "team-a", true)
	if len(live) != 1 || len(all) != 2 {
		t.Errorf("live %d all %d, want 1 and 2", len(live), len(all))
	}
	ips, _ := s2.LiveIPs(ctx, "")
	if len(ips) != 2 {
		t.Errorf("live IPs %v", ips)
	}
}

func TestKeys(t *testing.T) { eachBackend(t, testKeys) }

func testKeys(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	key := auth.NewKey()
	lookup, hash := auth.Hash(key)
	k := auth.Key{ID: "key-1", TeamID: "team-a", Name: "ci", Lookup: lookup, Hash: hash, CreatedAt: time.Now()}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, auth.Key{ID: "key-2", TeamID: "team-a", Name: "ci", Lookup: "x", Hash: []byte("x"), CreatedAt: time.Now()}); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate key name: %v", err)
	}
	got, err := s.KeysByLookup(ctx, lookup)
	if err != nil || len(got) != 1 || got[0].TeamName != "a" || !auth.Verify(key, got[0].Hash) {
		t.Errorf("lookup: %+v %v", got, err)
	}
	if auth.Verify(key+"x", got[0].Hash) {
		t.Error("a wrong key verified")
	}
	if err := s.DeleteKey(ctx, "team-b", "ci"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("another team deletes the key: %v", err)
	}
	// An admin (no team) deleting by a name two teams use must say which.
	if err := s.CreateKey(ctx, auth.Key{ID: "key-3", TeamID: "team-b", Name: "ci", Lookup: "y", Hash: []byte("y"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKey(ctx, "", "ci"); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("an admin deleting an ambiguous name: %v, want conflict", err)
	}
	if err := s.DeleteKey(ctx, "", "key-3"); err != nil {
		t.Errorf("an admin deleting by ID: %v", err)
	}
	if err := s.DeleteKey(ctx, "team-a", "ci"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if got, _ := s.KeysByLookup(ctx, lookup); len(got) != 0 {
		t.Errorf("deleted key still found")
	}
}

func TestCustomTemplates(t *testing.T) { eachBackend(t, testCustomTemplates) }

func testCustomTemplates(t *testing.T, tdb testDB) {
	ctx := t.Context()
	s := withTeams(t, tdb)
	mk := func(id, team, name string, version int, public bool) *build.Template {
		return &build.Template{ID: id, TeamID: team, Name: name, Version: version, Public: public,
			Stack:  layer.Stack{Base: "/templates/base/rootfs", Layers: []string{"aa", "bb"}},
			Config: build.Config{Env: dockerfile.Env{"A=1"}, Workdir: "/app", Cmd: []string{"node", "server.js"}, Ports: []int{3000}},
			Source: "FROM base\n", From: "base", BuiltBy: "ci", CreatedAt: time.Unix(int64(version), 0)}
	}
	for _, tpl := range []*build.Template{mk("t1", "team-a", "app", 1, false), mk("t2", "team-a", "app", 2, false), mk("t3", "team-b", "shared", 1, true)} {
		if err := s.InsertTemplate(ctx, tpl); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertTemplate(ctx, mk("t4", "team-a", "app", 2, false)); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("a version recorded twice: %v", err)
	}
	got, err := s.Templates(ctx, "team-a")
	if err != nil || len(got) != 3 || got[0].ID != "t2" {
		t.Fatalf("team a's templates and the public ones, newest first: %+v, %v", got, err)
	}
	if c := got[0].Config; c.Workdir != "/app" || c.Cmd[1] != "server.js" || got[0].Stack.Layers[1] != "bb" {
		t.Errorf("read back: %+v", got[0])
	}
	if others, _ := s.Templates(ctx, "team-b"); len(others) != 1 {
		t.Errorf("team b sees %d templates, want only its own", len(others))
	}
	if err := s.DeleteTemplate(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.Templates(ctx, ""); len(left) != 2 {
		t.Errorf("after a delete: %d left", len(left))
	}
}
