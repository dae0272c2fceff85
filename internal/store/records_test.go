package store

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

func TestEvents(t *testing.T) { eachBackend(t, testEvents) }

func testEvents(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	changed := s.Changed()
	a, b := newSandbox("team-a", "", "10.88.0.2"), newSandbox("team-b", "", "10.88.0.3")
	for _, sb := range []*sandbox.Sandbox{a, b} {
		if err := s.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-changed:
	default:
		t.Error("Changed was not closed by a write")
	}
	a.State, a.Why = sandbox.Running, "started"
	if err := s.UpdateSandbox(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateSandbox(ctx, a); err != nil { // no change of state: no event
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, a.ID, sandbox.Running, "desktop ready"); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, a.ID)
	if err != nil || len(evs) != 3 || evs[1].From != sandbox.Creating || evs[1].To != sandbox.Running || evs[1].Why != "started" || evs[2].Why != "desktop ready" {
		t.Fatalf("events of a: %+v, %v", evs, err)
	}
	last, err := s.LastEventSeq(ctx)
	if err != nil || last != evs[2].Seq {
		t.Errorf("last event %d, %v; want %d", last, err, evs[2].Seq)
	}
	all, _ := s.EventsSince(ctx, "", "", 0, 100)
	teamB, _ := s.EventsSince(ctx, "team-b", "", 0, 100)
	after, _ := s.EventsSince(ctx, "team-a", a.ID, evs[0].Seq, 1)
	if len(all) != 4 || len(teamB) != 1 || teamB[0].SandboxID != b.ID || len(after) != 1 || after[0].Seq != evs[1].Seq {
		t.Errorf("events since: all %d, team b %+v, after a's first %+v", len(all), teamB, after)
	}
	if err := s.UpdateSandbox(ctx, newSandbox("team-a", "", "10.88.0.4")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("updating a sandbox never recorded: %v", err)
	}
}

// Concurrent writers record events whose sequence numbers follow their
// order of commit: a reader that has seen event N never sees one below N
// appear later (on PostgreSQL, where writers run at once, a lock does it).
func TestEventsCommitInOrder(t *testing.T) { eachBackend(t, testEventsCommitInOrder) }

func testEventsCommitInOrder(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	sb := newSandbox("team-a", "", "10.88.0.2")
	if err := s.InsertSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if err := s.AddEvent(ctx, sb.ID, sandbox.Running, "tick"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var seen int64
	var count int
	for done := false; !done; {
		select {
		case <-waitGroupDone(&wg):
			done = true
		case <-time.After(time.Millisecond):
		}
		evs, err := s.EventsSince(ctx, "", sb.ID, seen, 1000)
		if err != nil {
			t.Fatal(err)
		}
		count += len(evs)
		if len(evs) > 0 {
			seen = evs[len(evs)-1].Seq
		}
	}
	if count != 1+writers*each { // and the creation
		t.Errorf("a reader following the events saw %d, want %d", count, 1+writers*each)
	}
}

func waitGroupDone(wg *sync.WaitGroup) <-chan struct{} {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	return ch
}

func TestSnapshots(t *testing.T) { eachBackend(t, testSnapshots) }

func testSnapshots(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	sn := &sandbox.Snapshot{ID: "snap-1", SandboxID: "sandbox-aaaaaaaaaaaa", TeamID: "team-a", Name: "before", Secret: "x", CreatedAt: time.Now()}
	if err := s.InsertSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	again := *sn
	again.ID = "snap-2"
	if err := s.InsertSnapshot(ctx, &again); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a name taken twice: %v", err)
	}
	sn.Ready, sn.Size = true, 1<<40
	if err := s.UpdateSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	got, err := s.Snapshots(ctx, sn.SandboxID)
	if err != nil || len(got) != 1 || !got[0].Ready || got[0].Size != 1<<40 || got[0].Secret != "x" {
		t.Errorf("snapshots: %+v, %v", got, err)
	}
	if err := s.DeleteSnapshot(ctx, sn.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Snapshots(ctx, ""); len(got) != 0 {
		t.Errorf("after a delete: %+v", got)
	}
}

func TestSSHKeys(t *testing.T) { eachBackend(t, testSSHKeys) }

func testSSHKeys(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	k := SSHKey{ID: "sshkey-1", TeamID: "team-a", Name: "laptop", Fingerprint: "SHA256:abc", PublicKey: "ssh-ed25519 AAAA", CreatedAt: time.Now()}
	if err := s.CreateSSHKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	k.ID = "sshkey-2"
	if err := s.CreateSSHKey(ctx, k); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a name taken twice: %v", err)
	}
	k.TeamID = "team-b"
	if err := s.CreateSSHKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	byFP, err := s.SSHKeysByFingerprint(ctx, "SHA256:abc")
	if err != nil || len(byFP) != 2 {
		t.Errorf("by fingerprint: %+v, %v", byFP, err)
	}
	if err := s.DeleteSSHKey(ctx, "team-b", "sshkey-1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("another team deletes a key: %v", err)
	}
	if err := s.DeleteSSHKey(ctx, "team-a", "laptop"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.SSHKeys(ctx, "team-a"); len(left) != 0 {
		t.Errorf("after a delete: %+v", left)
	}
	if teams, err := s.Teams(ctx); err != nil || len(teams) != 2 || teams[0].Name != "a" {
		t.Errorf("teams: %+v, %v", teams, err)
	}
	if team, err := s.TeamByName(ctx, "team-b"); err != nil || team.Name != "b" {
		t.Errorf("a team by ID: %+v, %v", team, err)
	}
	if _, err := s.TeamByName(ctx, "c"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("no such team: %v", err)
	}
}

// Text that is not valid UTF-8, or holds NUL bytes (an error from a
// program, a Latin-1 Dockerfile), is recorded all the same: as it is on
// SQLite, with those bytes as U+FFFD on PostgreSQL, whose text refuses them.
func TestBadText(t *testing.T) { eachBackend(t, testBadText) }

func testBadText(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	bad := "crashed: caf\xe9\x00!"
	sb := newSandbox("team-a", "", "10.88.0.2")
	if err := s.InsertSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	sb.State, sb.StopReason, sb.Why = sandbox.Stopped, bad, bad
	if err := s.UpdateSandbox(ctx, sb); err != nil {
		t.Fatalf("recording a stop with a reason of bad text: %v", err)
	}
	got, err := s.GetSandbox(ctx, sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sqlite": bad, "postgres": "crashed: caf\uFFFD\uFFFD!"}[tdb.name]
	if got.StopReason != want {
		t.Errorf("stop reason %q, want %q", got.StopReason, want)
	}
}
