package sshgate

import (
	"io"

	"golang.org/x/crypto/ssh"
)

// Observer is told about the gateway's connections and traffic, for
// metrics. Its methods are called from many goroutines, and as bytes flow,
// so they must be quick.
type Observer interface {
	// Accepted is called when a connection has logged in and its sandbox
	// is open, Closed when that connection ends.
	Accepted()
	Closed()
	// Refused is called for a connection that never reached its sandbox:
	// dropped while too many were authenticating, a failed handshake or
	// login, or a sandbox that could not be opened.
	Refused()
	// ToSandbox is called as bytes from the client go to the sandbox
	// (stdin, SFTP requests, forwarded connections), FromSandbox as they
	// come back (output, SFTP answers). SSH's own overhead is not counted.
	ToSandbox(n int64)
	FromSandbox(n int64)
}

// counted makes the channels of nch count their traffic, if there is an
// Observer.
func (g *Gateway) counted(nch ssh.NewChannel) ssh.NewChannel {
	if g.obs == nil {
		return nch
	}
	return countedNewChannel{NewChannel: nch, obs: g.obs}
}

type countedNewChannel struct {
	ssh.NewChannel
	obs Observer
}

func (c countedNewChannel) Accept() (ssh.Channel, <-chan *ssh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	return countedChannel{Channel: ch, obs: c.obs}, reqs, nil
}

// countedChannel counts what the client sends (Read) and what it is sent
// (Write, and the stderr stream's Write).
type countedChannel struct {
	ssh.Channel
	obs Observer
}

func (c countedChannel) Read(b []byte) (int, error) { return count(c.Channel.Read, b, c.obs.ToSandbox) }

func (c countedChannel) Write(b []byte) (int, error) {
	return count(c.Channel.Write, b, c.obs.FromSandbox)
}

func (c countedChannel) Stderr() io.ReadWriter {
	return countedStderr{ReadWriter: c.Channel.Stderr(), obs: c.obs}
}

type countedStderr struct {
	io.ReadWriter
	obs Observer
}

func (c countedStderr) Write(b []byte) (int, error) {
	return count(c.ReadWriter.Write, b, c.obs.FromSandbox)
}

// count reads or writes b with rw and tells add how many bytes it moved.
func count(rw func([]byte) (int, error), b []byte, add func(int64)) (int, error) {
	n, err := rw(b)
	if n > 0 {
		add(int64(n))
	}
	return n, err
}
