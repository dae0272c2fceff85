// Package deptest checks which packages a package may import, so that the
// layering of the code is tested rather than remembered. It asks the go
// command for the package's full dependency list.
package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// Module is the module path every rule's patterns are relative to.
const Module = "github.com/runtools/runtools"

// Deps returns the packages pkg imports, directly or not, as import paths.
func Deps(t testing.TB, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var deps []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list's output: %v", err)
		}
		if p.ImportPath != pkg {
			deps = append(deps, p.ImportPath)
		}
	}
	return deps
}

// Rule says what one package may and may not import. The module's paths
// are written relative to Module ("internal/cli"); a path also matches the
// packages under it.
type Rule struct {
	Package string
	// OnlyOwn, if set, are the only packages of the module it may import.
	OnlyOwn []string
	// Never are packages (of the module or not) it may not import.
	Never []string
	Why   string
}

// Check fails t for every import of r.Package that breaks r.
func Check(t *testing.T, r Rule) {
	t.Helper()
	for _, dep := range Violations(t, r) {
		t.Errorf("%s imports %s: %s", r.Package, dep, r.Why)
	}
}

// Violations returns the imports of r.Package that break r.
func Violations(t testing.TB, r Rule) []string {
	t.Helper()
	var bad []string
	for _, dep := range Deps(t, Module+"/"+r.Package) {
		own := strings.HasPrefix(dep, Module+"/")
		if own && r.OnlyOwn != nil && !matches(dep, r.OnlyOwn) || matches(dep, r.Never) {
			bad = append(bad, dep)
		}
	}
	return bad
}

// matches reports whether dep is one of pats or under one.
func matches(dep string, pats []string) bool {
	for _, p := range pats {
		if ownTop[strings.SplitN(p, "/", 2)[0]] {
			p = Module + "/" + p
		}
		if dep == p || strings.HasPrefix(dep, p+"/") {
			return true
		}
	}
	return false
}

// ownTop are the module's top-level directories: a pattern that starts
// with one is relative to Module; any other is an import path as it is
// (net/http, github.com/spf13/cobra).
var ownTop = map[string]bool{"internal": true, "client": true, "api": true, "cmd": true, "bench": true, "integration": true}
