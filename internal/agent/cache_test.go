package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCachedRereadsChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(path, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	db := userDB{passwd: path, group: filepath.Join(t.TempDir(), "group"), passwdC: &cached[[]passwdEntry]{}, groupC: &cached[[]groupEntry]{}}
	if _, err := db.lookup("app"); err == nil {
		t.Fatal("unknown user found")
	}
	os.WriteFile(path, []byte("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/bash\n"), 0o644)
	time.Sleep(cacheTTL + 50*time.Millisecond)
	u, err := db.lookup("app")
	if err != nil || u.UID != 1000 || u.Home != "/home/app" {
		t.Errorf("after useradd: %+v %v", u, err)
	}
}

func TestRecentKeepsOnlyFreshHits(t *testing.T) {
	var r recent
	r.put("k", "v")
	if v, ok := r.get("k"); !ok || v != "v" {
		t.Errorf("fresh hit: %q %v", v, ok)
	}
	r.m["k"] = recentHit{val: "v", at: time.Now().Add(-2 * cacheTTL)}
	if _, ok := r.get("k"); ok {
		t.Error("stale hit returned")
	}
}
