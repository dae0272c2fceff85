package deptest

import "testing"

// transports are the packages that speak to the outside: HTTP APIs, the
// proxy, SSH, websockets, the CLI and its client.
var transports = []string{
	"internal/apiserver", "internal/proxy", "internal/sshgate", "internal/dashboard", "internal/cli", "internal/daemon", "client",
	"github.com/coder/websocket", "golang.org/x/crypto/ssh", "github.com/spf13/cobra",
}

func TestLayering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, r := range []Rule{
		{Package: "internal/cli", OnlyOwn: []string{"client", "internal/cli", "api/wire", "internal/mcpserver"},
			Why: "the CLI talks to the server only through the public client package (and the MCP server, which does too)"},
		{Package: "internal/mcpserver", OnlyOwn: []string{"client", "internal/mcpserver", "api/wire"},
			Why: "the MCP tools reach the server only through the public client, in `runtools mcp` and at /mcp alike"},
		{Package: "internal/agent", OnlyOwn: []string{"internal/agent", "internal/errdefs", "api/wire"},
			Why: "the agent runs inside sandboxes and knows nothing of the daemon's side"},
		{Package: "internal/sandbox", Never: transports,
			Why: "the sandbox domain is reached through transports, never the other way round"},
		{Package: "client", OnlyOwn: []string{"client", "api/wire"},
			Why: "the public client depends on nothing internal"},
		{Package: "api/wire", OnlyOwn: []string{"api/wire"},
			Why: "the shared wire types depend on nothing"},
		{Package: "internal/store", Never: transports,
			Why: "the store keeps records; it calls nobody"},
	} {
		t.Run(r.Package, func(t *testing.T) { Check(t, r) })
	}
}

// TestViolationsFound checks the checker: rules these packages break.
func TestViolationsFound(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if bad := Violations(t, Rule{Package: "internal/cli", OnlyOwn: []string{"internal/cli"}}); len(bad) == 0 {
		t.Error("the CLI imports the client, and no violation was found")
	}
	if bad := Violations(t, Rule{Package: "internal/apiserver", Never: []string{"internal/sandbox", "net/http"}}); len(bad) < 2 {
		t.Errorf("the API server imports the sandbox package and net/http: found %v", bad)
	}
}
