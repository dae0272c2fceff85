package gvisor

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestOCISpecGolden(t *testing.T) {
	spec := ociSpec(Spec{
		ID: "sandbox-abcdefgh1234", RootFS: "/templates/base/rootfs", Dir: "/data/sandboxes/sandbox-abcdefgh1234",
		NetNS: "/var/run/netns/rt0-sandbox-abcdefgh1234", Hostname: "my-env", Agent: "/data/agent/runtools-0123",
		Env: []string{"RUNTOOLS_AGENT_TOKEN=secret"}, VCPUs: 2, MemoryMB: 1024, DiskMB: 2048,
		Binds: []Bind{{Source: "/data/volumes/vol-0123456789ab/mnt", Destination: "/mnt/data"},
			{Source: "/data/volumes/vol-ba9876543210/mnt", Destination: "/models", ReadOnly: true}},
	}, "/runtools", 8192)
	got, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/spec.golden.json"
	if *update {
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
		t.Errorf("OCI spec changed; if intended, run go test ./internal/runtime/gvisor -update\n%s", got)
	}
}

func TestGlobalFlagsOwnedByDaemon(t *testing.T) {
	r := &Runtime{cfg: Config{Root: "/data/runsc"}, platform: "systrap"}
	got := strings.Join(r.globalFlags(Spec{Dir: "/data/sandboxes/sandbox-x", DiskMB: 2048}), " ")
	want := "--root=/data/runsc --platform=systrap --network=sandbox --net-raw=false --host-uds=none --overlay2=root:dir=/data/sandboxes/sandbox-x/overlay,size=2048m"
	if got != want {
		t.Errorf("flags:\n got %s\nwant %s", got, want)
	}
	// A build step writes into its root filesystem, with no overlay of gVisor's.
	got = strings.Join(r.globalFlags(Spec{Dir: "/data/sandboxes/sandbox-x", DiskMB: 2048, WritableRoot: true, Platform: "ptrace"}), " ")
	want = "--root=/data/runsc --platform=ptrace --network=sandbox --net-raw=false --host-uds=none --overlay2=none"
	if got != want {
		t.Errorf("flags of a build step:\n got %s\nwant %s", got, want)
	}
}

func TestKeepTmpOnlyForARealDirectory(t *testing.T) {
	root := t.TempDir()
	if got := keepTmp(root); got != nil {
		t.Errorf("no /tmp: %v", got)
	}
	os.Symlink("/etc", filepath.Join(root, "tmp"))
	if got := keepTmp(root); got != nil {
		t.Errorf("/tmp a symlink out of the root: %v, want no mount", got)
	}
	os.Remove(filepath.Join(root, "tmp"))
	os.Mkdir(filepath.Join(root, "tmp"), 0o1777)
	if got := keepTmp(root); len(got) != 1 || got[0].Source != filepath.Join(root, "tmp") || got[0].Destination != "/tmp" {
		t.Errorf("a real /tmp: %v", got)
	}
}
