package sshgate

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/errdefs"
)

// recorder is an Observer that keeps counts.
type recorder struct {
	mu                        sync.Mutex
	accepted, closed, refused int
	to, from                  int64
}

func (r *recorder) Accepted() { r.mu.Lock(); r.accepted++; r.mu.Unlock() }
func (r *recorder) Closed()   { r.mu.Lock(); r.closed++; r.mu.Unlock() }
func (r *recorder) Refused()  { r.mu.Lock(); r.refused++; r.mu.Unlock() }
func (r *recorder) ToSandbox(n int64) {
	r.mu.Lock()
	r.to += n
	r.mu.Unlock()
}
func (r *recorder) FromSandbox(n int64) {
	r.mu.Lock()
	r.from += n
	r.mu.Unlock()
}

// waitFor polls until cond holds on the counts.
func (r *recorder) waitFor(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r)
		state := fmt.Sprintf("accepted %d, closed %d, refused %d, %d bytes to and %d from the sandbox",
			r.accepted, r.closed, r.refused, r.to, r.from)
		r.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestObserver(t *testing.T) {
	rec := &recorder{}
	e := newTestEnv(t, func(c *Config) { c.Observer = rec })

	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	s := newSession(t, c)
	s.Stdin = strings.NewReader(strings.Repeat("i", 99) + "\n")
	out, err := s.Output("cat; err oops")
	if err != nil || len(out) != 100 {
		t.Fatalf("cat: %d bytes, %v", len(out), err)
	}
	rec.waitFor(t, "after a session", func(r *recorder) bool {
		// stdin, then stdout and "oops\n" on stderr.
		return r.accepted == 1 && r.closed == 0 && r.refused == 0 && r.to == 100 && r.from == 105
	})
	c.Close()
	e.waitDone()
	rec.waitFor(t, "after the connection closed", func(r *recorder) bool { return r.closed == 1 })

	if _, err := e.dial(idA, ssh.PublicKeys(e.keyNone)); err == nil {
		t.Fatal("an unknown key logged in")
	}
	rec.waitFor(t, "after a refused login", func(r *recorder) bool { return r.refused == 1 && r.accepted == 1 })
}

func TestObserverOpenFailure(t *testing.T) {
	rec := &recorder{}
	e := newTestEnv(t, func(c *Config) { c.Observer = rec }, func(b *fakeBackend) {
		b.openErr = errors.Join(errors.New("gone"), errdefs.ErrConflict)
	})
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	if _, err := c.NewSession(); err == nil {
		t.Fatal("a session on a sandbox that cannot open")
	}
	c.Close()
	rec.waitFor(t, "after a failed open", func(r *recorder) bool { return r.refused == 1 && r.accepted == 0 && r.closed == 0 })
}
