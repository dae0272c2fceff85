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

// TestPythonSDK runs the Python SDK's own suite (sdk/python, pytest)
// against a real server, as a user would meet the package: it installs
// sdk/python into a fresh virtual environment (Debian's Python and
// packages: no package index is reached), checks it with mypy --strict,
// builds its wheel and sdist, then runs its tests with RUNTOOLS_URL and
// RUNTOOLS_API_KEY pointing at the server. They cover the SDK's calls and
// check it against api/openapi.yaml.
func TestPythonSDK(t *testing.T) {
	s := startServer(t)
	dir, err := filepath.Abs(filepath.Join("..", "sdk", "python"))
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := filepath.Abs(filepath.Join("..", "api", "openapi.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	venv := filepath.Join(tmp, "venv")
	run := func(name string, args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = tmp // not dir: the tests must import the installed package, not the source
		cmd.Env = append(os.Environ(),
			"RUNTOOLS_URL=http://"+s.addr,
			"RUNTOOLS_API_KEY="+s.key,
			"RUNTOOLS_SDK_REQUIRE_SERVER=1", // a missing server fails the suite rather than skipping it
			"RUNTOOLS_OPENAPI="+spec,
			"PIP_NO_INDEX=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PYTHONDONTWRITEBYTECODE=1",
			// A desktop takes over a minute to come up here; the Go and
			// TypeScript suites drive one, and the Python computer calls
			// are unit-tested against the fake server.
			"RUNTOOLS_SDK_SKIP_DESKTOP=1",
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		t.Logf("%s %s: %s", filepath.Base(name), args[len(args)-1], time.Since(start).Round(time.Millisecond))
		return string(out)
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatal("Debian's python3 is missing: run make setup")
	}
	run("/usr/bin/python3", "-m", "venv", "--system-site-packages", venv)
	py := filepath.Join(venv, "bin", "python")
	run(py, "-m", "pip", "install", "--no-build-isolation", "--no-index", dir)
	run(py, "-m", "mypy", "--strict", "--cache-dir", filepath.Join(tmp, "mypy"), filepath.Join(dir, "src", "runtools"))
	// --skip-dependency-check: Debian's hatchling declares editables, which
	// Debian does not package and a wheel or sdist build does not use.
	dist := filepath.Join(tmp, "dist")
	checkDists(t, run(py, "-m", "build", "--no-isolation", "--skip-dependency-check", "--outdir", dist, dir), dist)
	out := run(py, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q", "--durations=8", "--rootdir", dir, filepath.Join(dir, "tests"))
	t.Logf("pytest:\n%s", out)
	m := regexp.MustCompile(`(\d+) passed`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatal("pytest ran no test")
	}
}

// checkDists checks that the build made a wheel and an sdist of runtools 0.1.0.
func checkDists(t *testing.T, out, dist string) {
	t.Helper()
	for _, pattern := range []string{"runtools-0.1.0-py3-none-any.whl", "runtools-0.1.0.tar.gz"} {
		if _, err := os.Stat(filepath.Join(dist, pattern)); err != nil {
			t.Errorf("the build made no %s: %v\n%s", pattern, err, out)
		}
	}
}
