package sshgate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestKeyLogin(t *testing.T) {
	e := newTestEnv(t)
	for _, user := range []string{idA, webName} { // by ID, or by name within the key's team
		c := e.mustDial(user, ssh.PublicKeys(e.keyA))
		if out, _, err := run(t, c, "echo hello"); err != nil || out != "hello\n" {
			t.Fatalf("as %s: echo: %q, %v", user, out, err)
		}
		if got := e.be.lastOpen(); got != (Target{SandboxID: idA, TeamID: teamA}) {
			t.Errorf("as %s: opened %+v", user, got)
		}
		c.Close()
		e.waitDone()
	}
	fp := ssh.FingerprintSHA256(e.keyA.PublicKey())
	if got := e.logs.lines(`msg="SSH login"`, "sandbox="+idA, "method=publickey", "key="+fp, "source=127.0.0.1:"); len(got) != 2 {
		t.Errorf("want one login line per connection with user, sandbox, method, source and key, got %q", got)
	}
	if got := e.logs.lines(`msg="SSH connection ended"`, "duration="); len(got) != 2 {
		t.Errorf("want one line per connection end, got %q", got)
	}
}

func TestPasswordLogin(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idB, ssh.Password(passB))
	if out, _, err := run(t, c, "echo in b"); err != nil || out != "in b\n" {
		t.Fatalf("echo: %q, %v", out, err)
	}
	if got := e.be.lastOpen(); got != (Target{SandboxID: idB, TeamID: teamB}) {
		t.Errorf("opened %+v", got)
	}
	if got := e.logs.lines(`msg="SSH login"`, "user="+idB, "method=password"); len(got) != 1 {
		t.Errorf("login lines: %q", got)
	}
}

// Every failure gives the client the same answer; an unknown sandbox and
// wrong credentials cannot be told apart.
func TestAuthFailures(t *testing.T) {
	e := newTestEnv(t, noRateLimit)
	tests := []struct {
		name string
		user string
		auth []ssh.AuthMethod
		want string // the error the client sees; "" for the common one
	}{
		{name: "unregistered key", user: idA, auth: []ssh.AuthMethod{ssh.PublicKeys(e.keyNone)}},
		{name: "another team's key", user: idA, auth: []ssh.AuthMethod{ssh.PublicKeys(e.keyB)}},
		{name: "key, unknown sandbox", user: "sandbox-unknown1", auth: []ssh.AuthMethod{ssh.PublicKeys(e.keyA)}},
		{name: "key, name of another team's sandbox", user: "db", auth: []ssh.AuthMethod{ssh.PublicKeys(e.keyA)}},
		{name: "wrong password", user: idA, auth: []ssh.AuthMethod{ssh.Password("nope")}},
		{name: "another sandbox's password", user: idA, auth: []ssh.AuthMethod{ssh.Password(passB)}},
		{name: "password, unknown sandbox", user: "sandbox-unknown1", auth: []ssh.AuthMethod{ssh.Password(passA)}},
		{name: "empty password", user: idA, auth: []ssh.AuthMethod{ssh.Password("")}},
		{name: "none", user: idA, auth: nil, want: "attempted methods [none], no supported methods remain"},
		{name: "keyboard-interactive is not offered", user: idA,
			auth: []ssh.AuthMethod{ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
				t.Error("the server offered keyboard-interactive")
				return []string{passA}, nil
			})}, want: "attempted methods [none], no supported methods remain"},
	}
	errsByMethod := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw0, _, opens0, _ := e.be.counts()
			c, err := e.dial(tt.user, tt.auth...)
			if err == nil {
				c.Close()
				t.Fatal("logged in")
			}
			msg := err.Error()
			if tt.want != "" {
				if !strings.Contains(msg, tt.want) {
					t.Errorf("error %q, want %q", msg, tt.want)
				}
			} else {
				// The same message for every failure of a method.
				method := "publickey"
				if strings.Contains(msg, "password") {
					method = "password"
				}
				if prev, ok := errsByMethod[method]; ok && prev != msg {
					t.Errorf("error %q differs from %q", msg, prev)
				}
				errsByMethod[method] = msg
			}
			pw1, _, opens1, _ := e.be.counts()
			if opens1 != opens0 {
				t.Errorf("Open was called")
			}
			if strings.Contains(tt.name, "password") && pw1 != pw0+1 {
				t.Errorf("PasswordLogin called %d times, want once, known sandbox or not", pw1-pw0)
			}
		})
	}
	if len(errsByMethod) != 2 {
		t.Errorf("errors: %v", errsByMethod)
	}
}

// An unknown sandbox answers as slowly as a wrong password (or key), even
// when the backend answers it at once.
func TestAuthTiming(t *testing.T) {
	naive := func(b *fakeBackend) { b.hashDelay, b.keyDelay = 40*time.Millisecond, 5*time.Millisecond }
	measure := func(e *testEnv, user string, auth ssh.AuthMethod) time.Duration {
		var ds []time.Duration
		for range 5 {
			start := time.Now()
			c, err := e.dial(user, auth)
			ds = append(ds, time.Since(start))
			if err == nil {
				c.Close()
				t.Fatal("logged in")
			}
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	ratio := func(a, b time.Duration) float64 { return float64(max(a, b)) / float64(min(a, b)) }

	e := newTestEnv(t, noRateLimit, naive,
		func(g *Gateway) { g.passwordFloor, g.keyFloor = 150*time.Millisecond, 30*time.Millisecond })
	for _, tt := range []struct {
		name           string
		unknown, wrong ssh.AuthMethod
	}{
		{name: "password", unknown: ssh.Password(passA), wrong: ssh.Password("wrong")},
		{name: "key", unknown: ssh.PublicKeys(e.keyA), wrong: ssh.PublicKeys(e.keyNone)},
	} {
		unknown := measure(e, "sandbox-unknown1", tt.unknown)
		wrong := measure(e, idA, tt.wrong)
		t.Logf("%s: unknown sandbox %v, wrong credential %v (medians of 5)", tt.name, unknown, wrong)
		if r := ratio(unknown, wrong); r > 1.5 {
			t.Errorf("%s: unknown sandbox %v vs wrong credential %v: ratio %.2f > 1.5", tt.name, unknown, wrong, r)
		}
	}

	// The check can fail: without the floor, the naive backend shows.
	e = newTestEnv(t, noRateLimit, naive, func(g *Gateway) { g.passwordFloor = 0 })
	unknown, wrong := measure(e, "sandbox-unknown1", ssh.Password(passA)), measure(e, idA, ssh.Password("wrong"))
	t.Logf("without the floor: unknown sandbox %v, wrong password %v", unknown, wrong)
	if r := ratio(unknown, wrong); r < 1.5 {
		t.Errorf("without the floor, unknown %v and wrong %v are alike: the test measures nothing", unknown, wrong)
	}
}

func TestPasswordRateLimit(t *testing.T) {
	e := newTestEnv(t) // 10 a minute, burst 5
	const src1, src2 = "127.0.0.2", "127.0.0.3"
	attempt := func(src, user, password string) error {
		c, err := e.dialFrom(src, user, ssh.Password(password))
		if err == nil {
			c.Close()
		}
		return err
	}
	calls := func() int { pw, _, _, _ := e.be.counts(); return pw }

	for i := range 5 {
		if err := attempt(src1, idA, fmt.Sprintf("guess %d", i)); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	if calls() != 5 {
		t.Fatalf("backend saw %d attempts, want 5", calls())
	}
	// The source is over its limit: even the right password of another
	// sandbox fails, without reaching the backend.
	if err := attempt(src1, idB, passB); err == nil {
		t.Error("a limited source logged in")
	}
	if calls() != 5 {
		t.Errorf("backend called over the limit")
	}
	// So is the sandbox, from any source; another sandbox is not.
	if err := attempt(src2, idA, passA); err == nil {
		t.Error("logged in to a limited sandbox")
	}
	if calls() != 5 {
		t.Errorf("backend called over the limit")
	}
	if err := attempt(src2, idB, passB); err != nil {
		t.Errorf("another sandbox from another source: %v", err)
	}
	// Keys are not limited.
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	c.Close()
	if got := e.logs.lines("level=WARN", "too many SSH password attempts"); len(got) != 2 {
		t.Errorf("want one warning per limited bucket, got %q", got)
	}
}

// A key removed from the backend fails at the next login: nothing is cached.
func TestRevokedKey(t *testing.T) {
	e := newTestEnv(t)
	c := e.mustDial(idA, ssh.PublicKeys(e.keyA))
	c.Close()
	e.be.revokeKey(e.keyA.PublicKey())
	if c, err := e.dial(idA, ssh.PublicKeys(e.keyA)); err == nil {
		c.Close()
		t.Fatal("a revoked key logged in")
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(10.0/60, 5)
	now := time.Unix(1000, 0)
	for i := range 5 {
		if ok, _ := l.allow("k", now); !ok {
			t.Fatalf("attempt %d refused within the burst", i)
		}
	}
	if ok, first := l.allow("k", now); ok || !first {
		t.Fatalf("6th: ok %v first %v", ok, first)
	}
	if ok, first := l.allow("k", now.Add(time.Second)); ok || first {
		t.Fatalf("7th: ok %v first %v", ok, first)
	}
	if ok, _ := l.allow("other", now); !ok {
		t.Fatal("another key refused")
	}
	if ok, _ := l.allow("k", now.Add(6*time.Second)); !ok {
		t.Fatal("refused after 6 s at 10 a minute")
	}
	if ok, _ := l.allow("k", now.Add(7*time.Second)); ok {
		t.Fatal("allowed a second attempt within 6 s")
	}
	l.allow("x", now.Add(10*time.Minute)) // sweeps the refilled buckets
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets after a sweep, want 1", len(l.buckets))
	}
}

func TestSourceKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5555":              "192.0.2.7",
		"[::ffff:192.0.2.7]:5555":     "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5555": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ff::1]:22":     "2001:db8:1:2::/64",
	} {
		if got := sourceKey(fakeAddr(addr)); got != want {
			t.Errorf("sourceKey(%s) = %s, want %s", addr, got, want)
		}
	}
}

// noRateLimit lifts the password rate limits, for tests of something else.
func noRateLimit(g *Gateway) {
	g.bySource, g.byUser = newLimiter(1e6, 1e6), newLimiter(1e6, 1e6)
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
