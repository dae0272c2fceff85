package store

import (
	"context"
	"database/sql"
	"fmt"
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
	before := len(migrations) - 1
	for _, m := range migrations[:before] {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	pausedAt := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	for _, q := range []string{
		fmt.Sprintf("PRAGMA user_version = %d", before),
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

	// The new fields round-trip.
	sb.Labels = map[string]string{"app": "web"}
	sb.TimeoutAt, sb.OnTimeout, sb.TimeoutWarned = pausedAt.Add(time.Hour), sandbox.OnTimeoutPause, true
	if err := s.UpdateSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetSandbox(ctx, sb.ID)
	if got.Labels["app"] != "web" || !got.TimeoutAt.Equal(sb.TimeoutAt) || got.OnTimeout != sandbox.OnTimeoutPause || !got.TimeoutWarned {
		t.Errorf("after update: %+v", got)
	}
	snaps[0].Pinned = true
	if err := s.UpdateSnapshot(ctx, snaps[0]); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Snapshots(ctx, sb.ID); !again[0].Pinned {
		t.Errorf("pin not kept")
	}
}
