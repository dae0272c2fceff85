package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTypeScriptSDK runs the TypeScript SDK's own suite (sdk/typescript,
// Node's test runner) against a real server: it builds the package, then
// runs its tests with RUNTOOLS_URL and RUNTOOLS_API_KEY pointing at the
// server. They cover every API call the SDK makes, and check the SDK
// against api/openapi.yaml.
func TestTypeScriptSDK(t *testing.T) {
	s := startServer(t)
	dir := filepath.Join("..", "sdk", "typescript")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "typescript")); err != nil {
		t.Fatal("the TypeScript SDK's npm packages are not installed: run make setup")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	npm := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "npm", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"RUNTOOLS_URL=http://"+s.addr,
			"RUNTOOLS_API_KEY="+s.key,
			"RUNTOOLS_SDK_REQUIRE_SERVER=1", // a missing server fails the suite rather than skipping it
			"NO_COLOR=1",
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	npm("run", "build")
	out := npm("test")
	t.Logf("npm test:\n%s", out)
	m := regexp.MustCompile(`(?m)^\S+ pass (\d+)$`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatal("npm test ran no test")
	}
}
