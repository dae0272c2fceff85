package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/sshgate"
	"github.com/runtools/runtools/internal/store"
)

// sshFixture is a store with two teams. Team a registered keyA; both have
// a live sandbox named "web", with a password; team a also has an unnamed
// one with a password, and a stopped one.
type sshFixture struct {
	b          sshBackend
	keyA, keyX ssh.PublicKey // keyX is registered by nobody
	sandboxes  []*sandbox.Sandbox
	passwords  map[string]string // sandbox ID -> password
}

func newSSHFixture(tb testing.TB) *sshFixture {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, tb.TempDir()+"/db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	for _, team := range []string{"a", "b"} {
		if err := st.CreateTeam(ctx, auth.Team{ID: "team-" + team, Name: team, CreatedAt: time.Now()}); err != nil {
			tb.Fatal(err)
		}
	}
	// Refusing an unknown user costs a bcrypt at the default cost, on
	// purpose; at the lowest cost, the fuzzer tries many more users.
	slow := dummyHash
	dummyHash = sync.OnceValue(func() []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte("runtools: no such sandbox"), bcrypt.MinCost)
		return h
	})
	tb.Cleanup(func() { dummyHash = slow })
	fx := &sshFixture{b: sshBackend{st: st}, passwords: map[string]string{}}
	for i, k := range []*ssh.PublicKey{&fx.keyA, &fx.keyX} {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		if *k, err = ssh.NewPublicKey(pub); err != nil {
			tb.Fatal(err)
		}
		if i == 0 {
			err = st.CreateSSHKey(ctx, store.SSHKey{ID: "sshkey-a", TeamID: "team-a", Name: "laptop", Fingerprint: ssh.FingerprintSHA256(*k),
				PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(*k))), CreatedAt: time.Now()})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	for i, s := range []struct {
		id, team, name, password string
		state                    sandbox.State
	}{
		{"sandbox-aweb0000", "team-a", "web", "correct horse", sandbox.Running},
		{"sandbox-aold0000", "team-a", "old", "correct horse", sandbox.Stopped},
		{"sandbox-anoname0", "team-a", "", "nameless", sandbox.Paused},
		{"sandbox-bweb0000", "team-b", "web", "battery staple", sandbox.Running},
		{"sandbox-bdb00000", "team-b", "db", "", sandbox.Running},
	} {
		sb := &sandbox.Sandbox{ID: s.id, TeamID: s.team, Name: s.name, Template: "base", State: s.state,
			IP: netip.AddrFrom4([4]byte{10, 88, 0, byte(2 + i)}), Secret: "s", CreatedAt: time.Now().UTC()}
		if s.password != "" {
			h, err := bcrypt.GenerateFromPassword([]byte(s.password), bcrypt.MinCost)
			if err != nil {
				tb.Fatal(err)
			}
			sb.PasswordHash = string(h)
			fx.passwords[s.id] = s.password
		}
		if err := st.InsertSandbox(ctx, sb); err != nil {
			tb.Fatal(err)
		}
		fx.sandboxes = append(fx.sandboxes, sb)
	}
	return fx
}

// FuzzSSHUser logs in to the SSH gateway's backend with a user name (and a
// password) from the fuzzer. A user name must not cause a panic, and opens
// only the live sandbox whose ID or name it is, byte for byte: a key only
// one of its team's, a password only the one it is the password of.
func FuzzSSHUser(f *testing.F) {
	for _, seed := range []struct{ user, password string }{
		{"web", "correct horse"}, {"web", "battery staple"}, {"sandbox-aweb0000", "correct horse"},
		{"sandbox-bweb0000", "battery staple"}, {"old", "correct horse"}, {"sandbox-aold0000", "correct horse"},
		{"sandbox-anoname0", "nameless"}, {"", "nameless"}, {"db", ""}, {"WEB", "correct horse"}, {"web\x00", "correct horse"},
		{"web ", "correct horse"}, {"web%", "correct horse"}, {"w_b", "correct horse"}, {"web' OR '1'='1", "x"},
		{"", ""}, {"sandbox-aweb0000/..", "correct horse"}, {"ｗｅｂ", "correct horse"},
		{"sandbox-aweb0000.team-a", "correct horse"}, {"web+team-a", "correct horse"}, {"web", "correct horse\x00"},
		{strings.Repeat("w", 4096), "correct horse"},
	} {
		f.Add(seed.user, seed.password)
	}
	fx := newSSHFixture(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, user, password string) {
		// The sandboxes user names: live, and of the key's team for a key.
		var named, ofTeamA []*sandbox.Sandbox
		for _, sb := range fx.sandboxes {
			if sb.Live() && (sb.ID == user || sb.Name != "" && sb.Name == user) {
				named = append(named, sb)
				if sb.TeamID == "team-a" {
					ofTeamA = append(ofTeamA, sb)
				}
			}
		}

		got, err := fx.b.KeyLogin(ctx, user, fx.keyA)
		if err == nil && !sandbox.IsID(user) && sandbox.ValidateName(user) != nil {
			t.Fatalf("key login as %q, which is neither an ID nor a name, opened %+v", user, got)
		}
		switch {
		case len(ofTeamA) == 0 && err == nil:
			t.Fatalf("key login as %q opened %+v", user, got)
		case len(ofTeamA) == 0 && !errors.Is(err, errdefs.ErrPermissionDenied):
			t.Fatalf("key login as %q: %v, want permission denied", user, err)
		case len(ofTeamA) == 1 && (err != nil || got != target(ofTeamA[0])):
			t.Fatalf("key login as %q = %+v, %v; want %+v", user, got, err, target(ofTeamA[0]))
		}
		if got, err := fx.b.KeyLogin(ctx, user, fx.keyX); err == nil {
			t.Fatalf("unregistered key logged in as %q: %+v", user, got)
		}

		got, err = fx.b.PasswordLogin(ctx, user, password)
		var want *sandbox.Sandbox
		for _, sb := range named {
			if p := fx.passwords[sb.ID]; p != "" && p == password {
				want = sb
			}
		}
		switch {
		case want == nil && err == nil:
			t.Fatalf("password login as %q with %q opened %+v", user, password, got)
		case want == nil && !errors.Is(err, errdefs.ErrPermissionDenied):
			t.Fatalf("password login as %q: %v, want permission denied", user, err)
		case want != nil && (err != nil || got != target(want)):
			t.Fatalf("password login as %q with %q = %+v, %v; want %+v", user, password, got, err, target(want))
		}
	})
}

func target(sb *sandbox.Sandbox) sshgate.Target {
	return sshgate.Target{SandboxID: sb.ID, TeamID: sb.TeamID}
}
