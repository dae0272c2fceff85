package build

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/layer"
)

// memStore keeps templates in memory, newest first as the real store.
type memStore struct{ all []*Template }

func (m *memStore) InsertTemplate(_ context.Context, t *Template) error {
	m.all = append([]*Template{t}, m.all...)
	return nil
}

func (m *memStore) Templates(context.Context, string) ([]*Template, error) { return m.all, nil }

func (m *memStore) DeleteTemplate(_ context.Context, id string) error {
	m.all = slices.DeleteFunc(m.all, func(t *Template) bool { return t.ID == id })
	return nil
}

func (m *memStore) SetTemplatePublic(context.Context, string, string, bool) error { return nil }

// committed makes a layer with one file, last used age ago.
func committed(t *testing.T, s *layer.Store, dir, name string, age time.Duration) string {
	t.Helper()
	id := strings.Repeat(name[:1], 64)
	p, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Files(), name), []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Commit("", "RUN "+name); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(dir, id), then, then); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	layers, err := layer.Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	const week = 7 * 24 * time.Hour
	old := func(name string) string { return committed(t, layers, dir, name, week+time.Hour) }
	a1, a2, w1, w2, orphan, replaced := old("a"), old("b"), old("c"), old("d"), old("e"), old("9")
	fresh := committed(t, layers, dir, "f", time.Minute)
	now := time.Now()
	st := &memStore{}
	version := func(id, team, name string, v int, age time.Duration, layerID string) {
		st.InsertTemplate(context.Background(), &Template{ID: id, TeamID: team, Name: name, Version: v, CreatedAt: now.Add(-age),
			Stack: layer.Stack{Base: "/tpl/base", Layers: []string{layerID}}})
	}
	version("app-1", "t1", "app", 1, 3*time.Hour, replaced) // replaced, unused: goes, with its layer
	version("web-1", "t1", "web", 1, 3*time.Hour, w1)       // replaced, a sandbox runs on it: stays
	version("app-2", "t1", "app", 2, time.Hour, a2)
	version("app-b", "t2", "app", 1, 3*time.Hour, a1) // another team's, the newest of its own
	version("web-2", "t1", "web", 2, time.Minute, w2) // replaced a minute ago: web-1 would stay anyway
	b := New(Options{}, layers, nil, nil, st, log)
	web1 := layers.SharedPath(layer.Stack{Base: "/tpl/base", Layers: []string{w1}})
	inUse := func(rootfs string) bool { return rootfs == web1 }
	if err := b.Prune(context.Background(), inUse); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tpl := range st.all {
		ids = append(ids, tpl.ID)
	}
	if want := []string{"web-2", "app-b", "app-2", "web-1"}; !slices.Equal(ids, want) {
		t.Errorf("versions after the prune: %v, want %v", ids, want)
	}
	for id, want := range map[string]bool{a1: true, a2: true, w1: true, w2: true, orphan: false, fresh: true, replaced: false} {
		if _, err := layers.Get(id); (err == nil) != want {
			t.Errorf("layer %.1s after the prune: %v, want kept %v", id, err, want)
		}
	}
}
