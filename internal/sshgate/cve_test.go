package sshgate

import (
	"context"
	"net"
	"os"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/sshgate/sshgatetest"
)

// The CVE-2024-45337 pattern: the PublicKeyCallback sees key A (accepted,
// never proven), then key B (proven). The login must be refused, or
// authorized as B, never as A. This pins both the fixed x/crypto and the
// gateway's own check that the permissions are those of the signing key.
func TestCVE202445337(t *testing.T) {
	e := newTestEnv(t)
	offerAProveB := ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		return []ssh.Signer{sshgatetest.Impostor(e.keyA.PublicKey(), e.keyB)}, nil
	})

	// B belongs to team B: sandbox A must stay shut.
	c, err := e.dial(idA, offerAProveB)
	if err == nil {
		c.Close()
		t.Fatal("offering A's key and proving B's opened A's sandbox")
	}
	// The attack did get as far as the backend with both keys: A offered, B proven.
	fpA, fpB := ssh.FingerprintSHA256(e.keyA.PublicKey()), ssh.FingerprintSHA256(e.keyB.PublicKey())
	if calls := e.be.keyCallsSnapshot(); len(calls) != 2 || calls[0] != fpA || calls[1] != fpB {
		t.Fatalf("backend asked about %q, want A (%s) then B (%s): the test no longer exercises the attack", calls, fpA, fpB)
	}
	if _, _, opens, _ := e.be.counts(); opens != 0 {
		t.Fatalf("%d sandboxes opened", opens)
	}

	// B registered in team A too: the login is B's, not A's.
	e.be.addKey(e.keyB.PublicKey(), teamA)
	c, err = e.dial(idA, offerAProveB)
	if err != nil {
		t.Fatalf("B is registered in team A, yet: %v", err)
	}
	c.Close()
	e.waitDone()
	if got := e.logs.lines(`msg="SSH login"`, "key="+fpB); len(got) != 1 {
		t.Errorf("login as B: %q", got)
	}
	if got := e.logs.lines(`msg="SSH login"`, "key="+fpA); len(got) != 0 {
		t.Errorf("login as A: %q", got)
	}
}

// keyVerified refuses permissions made for another key, whatever x/crypto
// hands it.
func TestKeyVerifiedRefusesOtherKeysPermissions(t *testing.T) {
	e := newTestEnv(t)
	meta := fakeMeta{user: idA}
	perms, err := e.g.keyAuth(context.Background(), meta, e.keyA.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.keyVerified(meta, e.keyB.PublicKey(), perms, ""); err == nil {
		t.Error("keyVerified accepted key B with key A's permissions")
	}
	if _, err := e.g.keyVerified(fakeMeta{user: idB}, e.keyA.PublicKey(), perms, ""); err == nil {
		t.Error("keyVerified accepted permissions made for another user")
	}
	if _, err := e.g.keyVerified(meta, e.keyA.PublicKey(), perms, ""); err != nil {
		t.Errorf("keyVerified refused the key its permissions were made for: %v", err)
	}
}

type fakeMeta struct{ user string }

func (m fakeMeta) User() string          { return m.user }
func (m fakeMeta) SessionID() []byte     { return []byte("session") }
func (m fakeMeta) ClientVersion() []byte { return []byte("SSH-2.0-test") }
func (m fakeMeta) ServerVersion() []byte { return []byte(serverVersion) }
func (m fakeMeta) RemoteAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (m fakeMeta) LocalAddr() net.Addr   { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222} }

// The fix for CVE-2024-45337 is in golang.org/x/crypto v0.31.0: never build
// the gateway with an older one.
func TestCryptoVersionHasCVE202445337Fix(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*golang\.org/x/crypto v(\d+)\.(\d+)\.`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("golang.org/x/crypto is not required in go.mod")
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	if major == 0 && minor < 31 {
		t.Fatalf("golang.org/x/crypto v%d.%d lacks the CVE-2024-45337 fix (v0.31.0)", major, minor)
	}
	if regexp.MustCompile(`(?m)^\s*(replace\s+)?golang\.org/x/crypto\s.*=>`).Match(mod) {
		t.Fatal("golang.org/x/crypto is replaced in go.mod: check the replacement has the CVE-2024-45337 fix")
	}
}
