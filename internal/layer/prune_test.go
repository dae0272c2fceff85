package layer

import (
	"os"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/hostfs"
)

func TestPruneMounts(t *testing.T) {
	needRoot(t)
	s, base := open(t)
	write := func(name string) func(string) {
		return func(root string) { os.WriteFile(root+"/"+name, []byte(name), 0o644) }
	}
	kept := Stack{Base: base}.Push(step(t, s, Stack{Base: base}, "kept", write("kept")).ID)
	used := Stack{Base: base}.Push(step(t, s, Stack{Base: base}, "used", write("used")).ID)
	gone := Stack{Base: base}.Push(step(t, s, Stack{Base: base}, "gone", write("gone")).ID)
	for _, st := range []Stack{kept, used, gone} {
		if _, err := s.RootFS(st); err != nil {
			t.Fatal(err)
		}
	}
	inUse := func(path string) bool { return path == s.SharedPath(used) }
	p, err := s.Prune([]Stack{kept}, inUse, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mounts != 1 || p.Layers != 1 {
		t.Errorf("pruned %+v, want one mount and one layer", p)
	}
	for st, want := range map[*Stack]bool{&kept: true, &used: true, &gone: false} {
		mounted, _ := hostfs.Mounted(s.SharedPath(*st))
		_, err := s.Get(st.Top())
		if mounted != want || (err == nil) != want {
			t.Errorf("stack %.12s: mounted %v, layer %v; want kept %v", st.Top(), mounted, err, want)
		}
	}
	if _, ok := s.Cached(id("key gone")); ok {
		t.Error("the cache still names the removed layer")
	}
	if _, ok := s.Cached(id("key used")); !ok {
		t.Error("the cache lost a layer in use")
	}
	// Not idle long enough: nothing more goes.
	if p, err := s.Prune(nil, func(string) bool { return false }, time.Hour); err != nil || p.Layers != 0 || p.Mounts != 2 {
		t.Errorf("a prune of recently used layers: %+v, %v; want both mounts and no layer", p, err)
	}
}
