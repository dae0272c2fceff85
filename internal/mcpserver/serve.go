package mcpserver

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ServeStdio serves MCP on in and out (newline-delimited JSON-RPC, as an
// MCP client that spawned this process speaks it) until in ends or ctx
// is done.
func ServeStdio(ctx context.Context, api API, o Options, in io.ReadCloser, out io.WriteCloser) error {
	err := New(api, o).Run(ctx, &mcp.IOTransport{Reader: in, Writer: out})
	if err == nil || errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil
	}
	return err
}

// HTTPHandler serves MCP over streamable HTTP. It is stateless: each
// request gets a server whose tools act through forRequest(r), the
// caller's own API, so a request can only ever act as its own caller.
// forRequest returning nil answers 400. The handler does not
// authenticate: the caller mounts it behind its authentication.
func HTTPHandler(forRequest func(r *http.Request) API, o Options) http.Handler {
	if o.Schemas == nil {
		o.Schemas = mcp.NewSchemaCache()
	}
	return mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		api := forRequest(r)
		if api == nil {
			return nil
		}
		return New(api, o)
	}, &mcp.StreamableHTTPOptions{Stateless: true, Logger: o.Log})
}
