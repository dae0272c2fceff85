// Command runtools is the whole of runtools in one static binary: the CLI,
// the server (`runtools server`) and the in-sandbox agent (`runtools agent`).
package main

import (
	"os"

	"github.com/runtools/runtools/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := cli.NewRoot(version, serverCommand(), agentCommand())
	os.Exit(cli.Execute(root))
}
