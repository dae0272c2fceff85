package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/sandbox"
)

// TestLifetimesMigration: a database from before labels and lifetimes
// migrates with its sandboxes and snapshots whole; a paused sandbox's
// paused_at comes from its last pause event.
func TestLifetimesMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(migrations, "migrations/sqlite/0000[1-9]_*.sql")
	for _, f := range files { // as the store before goose did
		b, _ := fs.ReadFile(migrations, f)
		if _, err := db.ExecContext(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	pausedAt := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	for _, q := range []string{
		"PRAGMA user_version = 9",
		`INSERT INTO teams (id, name, created_at) VALUES ('team-a', 'a', 1)`,
		`INSERT INTO sandboxes (id, team_id, name, template, state, vcpus, memory_mb, disk_mb, ip, secret, metadata, created_at)
			VALUES ('sandbox-old00001', 'team-a', 'old', 'base', 'paused', 2, 1024, 2048, '10.9.0.2', 's', '{"owner":"bob"}', 1)`,
		fmt.Sprintf(`INSERT INTO sandbox_events (sandbox_id, at, from_state, to_state, why) VALUES ('sandbox-old00001', %d, 'pausing', 'paused', 'idle')`, pausedAt.UnixNano()),
		`INSERT INTO snapshots (id, sandbox_id, team_id, name, ready, created_at) VALUES ('snap-old', 'sandbox-old00001', 'team-a', 'keep', 1, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sb, err := s.GetSandbox(ctx, "sandbox-old00001")
	if err != nil {
		t.Fatal(err)
	}
	if sb.Name != "old" || sb.State != sandbox.Paused || sb.Metadata["owner"] != "bob" || len(sb.Labels) != 0 ||
		!sb.TimeoutAt.IsZero() || !sb.PausedAt.Equal(pausedAt) {
		t.Errorf("migrated sandbox: %+v", sb)
	}
	snaps, err := s.Snapshots(ctx, sb.ID)
	if err != nil || len(snaps) != 1 || snaps[0].Name != "keep" || snaps[0].Pinned {
		t.Errorf("migrated snapshots: %+v %v", snaps, err)
	}

}

// TestLifetimeFields: labels, the timeout, when it was paused and pinned
// snapshots round-trip on each backend.
func TestLifetimeFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		ctx := t.Context()
		s := withTeams(t, tdb)
		sb := newSandbox("team-a", "web", "10.88.0.2")
		at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
		sb.Labels, sb.TimeoutAt, sb.OnTimeout, sb.PausedAt = map[string]string{"app": "web"}, at, sandbox.OnTimeoutPause, at
		if err := s.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		sb.TimeoutWarned, sb.Labels["env"] = true, "prod"
		if err := s.UpdateSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSandbox(ctx, sb.ID)
		if err != nil || got.Labels["app"] != "web" || got.Labels["env"] != "prod" || !got.TimeoutAt.Equal(at) ||
			got.OnTimeout != sandbox.OnTimeoutPause || !got.TimeoutWarned || !got.PausedAt.Equal(at) {
			t.Errorf("read back: %+v %v", got, err)
		}
		sn := &sandbox.Snapshot{ID: sandbox.NewSnapshotID(), SandboxID: sb.ID, TeamID: "team-a", Name: "golden", Pinned: true, CreatedAt: at}
		if err := s.InsertSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		sn.Pinned = false
		if err := s.UpdateSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		if snaps, _ := s.Snapshots(ctx, sb.ID); len(snaps) != 1 || snaps[0].Pinned {
			t.Errorf("snapshots: %+v", snaps)
		}
	})
}
