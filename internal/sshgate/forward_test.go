package sshgate

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// echoServer answers every connection with what it reads.
func echoServer(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return ln
}

func TestDirectTCPIP(t *testing.T) {
	e := newTestEnv(t)
	e.be.sb.echo = echoServer(t)
	c := e.mustDial(webName, ssh.PublicKeys(e.keyB))

	for _, addr := range []string{"localhost:5173", "127.0.0.1:3000", "[::1]:8080", idB + ":80", "WEB:81"} {
		conn, err := c.Dial("tcp", addr)
		if err != nil {
			t.Errorf("forward to %s: %v", addr, err)
			continue
		}
		msg := "hello through " + addr
		io.WriteString(conn, msg)
		conn.(interface{ CloseWrite() error }).CloseWrite() // half-close reaches the sandbox
		got, err := io.ReadAll(conn)
		if err != nil || string(got) != msg {
			t.Errorf("forward to %s: echoed %q, %v", addr, got, err)
		}
		conn.Close()
	}
	if got := e.be.sb.dials; !slices.Equal(got, []int{5173, 3000, 8080, 80, 81}) {
		t.Errorf("dialled ports %v", got)
	}

	for _, tt := range []struct {
		addr   string
		reason ssh.RejectionReason
		msg    string
	}{
		{addr: "localhost:49983", reason: ssh.Prohibited, msg: "port 49983 cannot be forwarded"},
		{addr: "127.0.0.1:0", reason: ssh.Prohibited},
		{addr: "example.com:80", reason: ssh.Prohibited},
		{addr: "10.0.0.1:80", reason: ssh.Prohibited},
		{addr: idA + ":80", reason: ssh.Prohibited}, // another team's sandbox
		{addr: "localhost:1", reason: ssh.ConnectionFailed},
	} {
		_, err := c.Dial("tcp", tt.addr)
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) || oce.Reason != tt.reason || !strings.Contains(oce.Message, tt.msg) {
			t.Errorf("forward to %s: %v, want %v %q", tt.addr, err, tt.reason, tt.msg)
		}
	}
	if got := e.be.sb.dials; slices.Contains(got, 49983) || slices.Contains(got, 0) {
		t.Errorf("dialled a refused port: %v", got)
	}
	if got := e.be.sb.dials; got[len(got)-1] != 1 || len(got) != 6 {
		t.Errorf("dials %v", got)
	}
}

func TestRemoteForwardRefused(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	if ln, err := c.Listen("tcp", "0.0.0.0:8080"); err == nil {
		ln.Close()
		t.Fatal("remote forward (-R) accepted")
	}
	// The connection still works.
	if _, _, err := run(t, c, "exit 0"); err != nil {
		t.Fatal(err)
	}
}
