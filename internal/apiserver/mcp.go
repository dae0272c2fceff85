package apiserver

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/mcpserver"
)

// loopbackURL is the base URL of the clients that MCP tools use. It is
// never dialed: their requests are served in process.
const loopbackURL = "http://runtools.in-process"

// mcpHandler serves the Model Context Protocol over streamable HTTP. It
// sits behind authentication like every route; each request's tools act
// through a client that carries the caller's own key, served by api (the
// authenticated routes) in this process, so they see exactly what the
// caller may see: another team's sandbox is not found.
func (s *Server) mcpHandler(api http.Handler) http.Handler {
	hc := &http.Client{Transport: inProcess{api}}
	return mcpserver.HTTPHandler(func(r *http.Request) mcpserver.API {
		scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil // a WebSocket subprotocol key: not for MCP
		}
		c, err := client.New(loopbackURL, key, client.WithHTTPClient(hc))
		if err != nil {
			return nil
		}
		return mcpserver.ForClient(c)
	}, mcpserver.Options{Log: s.log.With("component", "mcp")})
}

// serveMCP is the /mcp route.
func (s *Server) serveMCP(w http.ResponseWriter, r *http.Request) error {
	s.mcp.ServeHTTP(w, r)
	return nil
}

// inProcess is an http.RoundTripper that serves each request with h in
// this process, and streams the answer back as h writes it.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	pr, pw := io.Pipe()
	w := &pipeResponse{header: http.Header{}, body: pw, started: make(chan struct{})}
	go func() {
		defer func() {
			if v := recover(); v != nil { // as net/http does: the answer breaks off
				w.WriteHeader(http.StatusInternalServerError)
				pw.CloseWithError(fmt.Errorf("in-process handler of %s %s panicked: %v", in.Method, in.URL.Path, v))
				return
			}
			w.WriteHeader(http.StatusOK) // a handler that wrote nothing
			pw.Close()
		}()
		p.h.ServeHTTP(w, in)
	}()
	select {
	case <-w.started:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	return &http.Response{
		Status: http.StatusText(w.status), StatusCode: w.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: pr, ContentLength: -1, Request: req,
	}, nil
}

// pipeResponse is the http.ResponseWriter of an in-process request: its
// body goes into a pipe the caller reads.
type pipeResponse struct {
	header  http.Header
	sent    http.Header // the header as it was when the status was written
	body    *io.PipeWriter
	status  int
	once    sync.Once
	started chan struct{}
}

func (w *pipeResponse) Header() http.Header { return w.header }

func (w *pipeResponse) WriteHeader(code int) {
	w.once.Do(func() {
		w.status, w.sent = code, w.header.Clone()
		close(w.started)
	})
}

func (w *pipeResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// Flush does nothing: every write is handed over as it is made.
func (w *pipeResponse) Flush() {}
