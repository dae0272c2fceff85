package network

import (
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func goldenConfig() Config {
	return Config{
		Bridge:    "rt0",
		Subnet:    netip.MustParsePrefix("10.88.0.0/16"),
		DNS:       []netip.Addr{netip.MustParseAddr("10.255.255.53"), netip.MustParseAddr("169.254.169.254")},
		AgentPort: 49983,
	}
}

func TestRulesGolden(t *testing.T) {
	got := rules(goldenConfig())
	path := filepath.Join("testdata", "rules.nft")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("rules differ from %s (run go test -update and review the diff):\n%s", path, got)
	}
}

// TestRulesParse has nft check the generated script without loading it.
func TestRulesParse(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("nft -c needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	for name, script := range map[string]string{
		"rules":  rules(goldenConfig()),
		"remove": removeRules("rt0"),
	} {
		cmd := exec.Command("nft", "-c", "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("nft -c rejects %s script: %v\n%s", name, err, out)
		}
	}
}

func TestRulesUseOnlyOwnTables(t *testing.T) {
	cfg := goldenConfig()
	cfg.Bridge = "rtdev"
	for _, line := range strings.Split(rules(cfg), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && (f[0] == "table" || f[0] == "delete" || f[0] == "flush") {
			name := f[len(f)-1]
			if name == "{" {
				name = f[len(f)-2]
			}
			if !strings.HasPrefix(name, "runtools_rtdev") {
				t.Errorf("script touches a table that is not ours: %q", line)
			}
		}
	}
	if strings.Contains(rules(cfg), "flush ruleset") {
		t.Error("script flushes the whole ruleset")
	}
}
