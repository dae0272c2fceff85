package gvisor

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestOCISpecGolden(t *testing.T) {
	spec := ociSpec(Spec{
		ID: "sandbox-abcdefgh1234", RootFS: "/templates/base/rootfs", Dir: "/data/sandboxes/sandbox-abcdefgh1234",
		NetNS: "/var/run/netns/rt0-sandbox-abcdefgh1234", Hostname: "my-env", Agent: "/data/agent/runtools-0123",
		Env: []string{"RUNTOOLS_AGENT_TOKEN=secret"}, VCPUs: 2, MemoryMB: 1024, DiskMB: 2048,
	}, "", "/runtools", 8192)
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
	got := strings.Join(r.globalFlags("/data/sandboxes/sandbox-x", 2048, ""), " ")
	want := "--root=/data/runsc --platform=systrap --network=sandbox --net-raw=false --host-uds=none --overlay2=root:dir=/data/sandboxes/sandbox-x/overlay,size=2048m"
	if got != want {
		t.Errorf("flags:\n got %s\nwant %s", got, want)
	}
}
