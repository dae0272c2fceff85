package template

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
)

// FuzzTemplateName looks up, resolves and builds a template by a name from
// the API. The name must not cause a panic; it is accepted only if it is
// a template's name or alias, otherwise it is not found; and whatever it
// is, nothing is created outside the cache directory, nor inside it under
// a name that is not a template's.
func FuzzTemplateName(f *testing.F) {
	for _, seed := range []string{
		"base", "base-ubuntu", "desktop", "Base", "base ", "base\x00", "base/../desktop", "../base", "..",
		".", "", "%2e%2e", "base.lock", ".build-base-1", "/etc", "bäse", strings.Repeat("a", 300),
	} {
		f.Add(seed)
	}
	parent := f.TempDir()
	dir := filepath.Join(parent, "cache")
	m, err := New(Config{Dir: dir, Builder: &fakeBuilder{}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	var known []string
	for _, r := range m.recipes {
		known = append(known, r.Name)
		known = append(known, r.Aliases...)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name string) {
		isKnown := slices.Contains(known, name)
		info, err := m.Get(ctx, name)
		switch {
		case isKnown && (err != nil || info.Name != name && !slices.Contains(info.Aliases, name)):
			t.Fatalf("Get(%q) = %q, %v", name, info.Name, err)
		case !isKnown && !errors.Is(err, errdefs.ErrNotFound):
			t.Fatalf("Get(%q) = %q, %v; want not found", name, info.Name, err)
		}
		if _, err := m.Resolve(ctx, name); !isKnown && !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatalf("Resolve(%q) = %v; want not found", name, err)
		}
		info, err = m.Build(ctx, name, nil)
		switch {
		case isKnown && (err != nil || info.Status != StatusReady || !strings.HasPrefix(info.RootFS, dir+"/")):
			t.Fatalf("Build(%q) = %+v, %v", name, info, err)
		case !isKnown && !errors.Is(err, errdefs.ErrNotFound):
			t.Fatalf("Build(%q) = %v; want not found", name, err)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 1 {
			t.Fatalf("after %q, the cache's parent holds %d entries", name, len(entries))
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !slices.ContainsFunc(m.recipes, func(r Recipe) bool {
				return strings.HasPrefix(e.Name(), r.Name+"-") || strings.HasPrefix(e.Name(), r.Name+".")
			}) {
				t.Fatalf("after %q, the cache holds %q", name, e.Name())
			}
		}
	})
}
