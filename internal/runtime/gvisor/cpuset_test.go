package gvisor

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCPUPinsSpreadAndKeep(t *testing.T) {
	p := &cpuPins{cpus: []int{2, 5, 7}, by: map[string]int{}}
	got := []int{p.pin("a"), p.pin("b"), p.pin("c"), p.pin("d")}
	if got[0] != 2 || got[1] != 5 || got[2] != 7 || got[3] != 2 {
		t.Errorf("four sandboxes on three CPUs: %v, want [2 5 7 2]", got)
	}
	if again := p.pin("b"); again != 5 {
		t.Errorf("a sandbox asked again moved from 5 to %d", again)
	}
	p.unpin("b")
	if cpu := p.pin("e"); cpu != 5 {
		t.Errorf("the CPU a destroyed sandbox freed went unused: got %d", cpu)
	}
}

func TestInheritCpuset(t *testing.T) {
	up, dir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(up, "cpuset.cpus"), []byte("0-3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cpuset.cpus"), []byte("\n"), 0o644)
	if err := inheritCpuset(up, dir, "cpuset.cpus"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cpuset.cpus")); string(b) != "0-3\n" {
		t.Errorf("an empty cpuset got %q, want the parent's", b)
	}
	os.WriteFile(filepath.Join(dir, "cpuset.cpus"), []byte("1\n"), 0o644)
	if err := inheritCpuset(up, dir, "cpuset.cpus"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cpuset.cpus")); string(b) != "1\n" {
		t.Errorf("a cpuset already set was overwritten: %q", b)
	}
}
