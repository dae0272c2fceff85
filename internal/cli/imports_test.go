package cli

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The CLI is a thin user of the public client: it may import the standard
// library, the client, cobra and x/term, and nothing else of runtools but
// the MCP server (`runtools mcp`), itself a user of the client only.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/runtools/runtools/client":             true,
		"github.com/runtools/runtools/internal/mcpserver": true,
		"github.com/spf13/cobra":                          true,
		"golang.org/x/term":                               true,
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			std := !strings.Contains(strings.SplitN(p, "/", 2)[0], ".")
			if !std && !allowed[p] {
				t.Errorf("%s imports %s; internal/cli may only use the standard library, client, internal/mcpserver, cobra and x/term", name, p)
			}
		}
	}
}
