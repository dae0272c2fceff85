package proxy

import (
	"io"
	"net/http"
	"net/http/httputil"
)

// Observer is told what the proxy carries, for metrics. Its methods are
// called from many goroutines, and as bytes flow, so they must be quick.
type Observer interface {
	// Request is called once per request the proxy answered, when it is
	// over, with its status: 101 for a websocket, 499 when the client went
	// away before an answer.
	Request(status int)
	// ToSandbox is called as bytes are sent to a sandbox (request bodies,
	// websocket input), FromSandbox as they come back (response bodies,
	// websocket output). Headers are not counted.
	ToSandbox(n int64)
	FromSandbox(n int64)
}

// countRequest counts the body of a request on its way to the sandbox.
func (p *Proxy) countRequest(pr *httputil.ProxyRequest) {
	if p.obs != nil && pr.Out.Body != nil && pr.Out.Body != http.NoBody {
		pr.Out.Body = &countedReader{ReadCloser: pr.Out.Body, add: p.obs.ToSandbox}
	}
}

// countResponse counts the body of a sandbox's response, both ways for a
// switched protocol (a websocket), whose body the proxy also writes to.
func (p *Proxy) countResponse(resp *http.Response) error {
	if p.obs == nil {
		return nil
	}
	r := countedReader{ReadCloser: resp.Body, add: p.obs.FromSandbox}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
		resp.Body = &countedRWC{countedReader: r, w: rwc, add: p.obs.ToSandbox}
	} else {
		resp.Body = &r
	}
	return nil
}

type countedReader struct {
	io.ReadCloser
	add func(int64)
}

func (c *countedReader) Read(b []byte) (int, error) { return count(c.ReadCloser.Read, b, c.add) }

type countedRWC struct {
	countedReader
	w   io.Writer
	add func(int64)
}

func (c *countedRWC) Write(b []byte) (int, error) { return count(c.w.Write, b, c.add) }

// count reads or writes b with rw and tells add how many bytes it moved.
func count(rw func([]byte) (int, error), b []byte, add func(int64)) (int, error) {
	n, err := rw(b)
	if n > 0 {
		add(int64(n))
	}
	return n, err
}
