package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// A database the store wrote before its migrations moved to goose (its
// schema version in PRAGMA user_version) opens with every record, and
// stays readable by that older store: user_version still counts.
func TestOpenBeforeGoose(t *testing.T) {
	ctx := t.Context()
	old, err := os.ReadFile("testdata/before-goose.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "runtools.db")
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // adopted once, then opened as any goose database
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := s.FindSandbox(ctx, "team-a", "web")
		if err != nil || !sb.Public || !sb.Desktop || sb.Ports[0] != 3000 || sb.State != "running" {
			t.Errorf("the old sandbox: %+v, %v", sb, err)
		}
		evs, _ := s.Events(ctx, "sandbox-legacy000001")
		keys, _ := s.Keys(ctx, "")
		ssh, _ := s.SSHKeys(ctx, "team-a")
		snaps, _ := s.Snapshots(ctx, "")
		tpls, _ := s.Templates(ctx, "team-a")
		if len(evs) != 2 || len(keys) != 1 || !keys[0].Admin || len(ssh) != 1 || len(snaps) != 1 || !snaps[0].Ready || len(tpls) != 1 {
			t.Errorf("old records: %d events, keys %+v, %d SSH keys, snapshots %+v, %d templates", len(evs), keys, len(ssh), snaps, len(tpls))
		}
		var version, gooseVersion int
		s.pool.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
		s.pool.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version").Scan(&gooseVersion)
		if latest := latestMigration(t); version != latest || gooseVersion != latest {
			t.Errorf("schema version %d, goose's %d; want %d", version, gooseVersion, latest)
		}
		if err := s.InsertSandbox(ctx, newSandbox("team-a", "", fmt.Sprintf("10.88.0.%d", 9+i))); err != nil {
			t.Errorf("writing to the old database: %v", err)
		}
		s.Close()
	}
}

// A database migrated by a newer runtools is refused, not misread.
func TestNewerSchemaRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, tdb testDB) {
		s := tdb.open(t)
		if _, err := s.pool.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, TRUE)"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err := tdb.try(t.Context()); err == nil || !strings.Contains(err.Error(), "newer than this runtools") {
			t.Errorf("opened a database of schema version 99: %v", err)
			if err == nil {
				s.Close()
			}
		}
	})
}

// Hosts that start at once on an empty PostgreSQL database take turns to
// migrate it: every one opens, and each migration ran once.
func TestPostgresConcurrentStart(t *testing.T) {
	url := pgtest.Shared(t).NewDatabase(t)
	const hosts = 6
	stores := make([]*Store, hosts)
	errs := make([]error, hosts)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var rows, applied int
	err := stores[0].pool.QueryRowContext(t.Context(), "SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version").Scan(&rows, &applied)
	if err != nil || rows != applied {
		t.Errorf("goose's table has %d rows for %d versions (%v): a migration ran twice", rows, applied, err)
	}
	teams, err := stores[hosts-1].Teams(t.Context())
	if err != nil || len(teams) != 0 {
		t.Errorf("teams of the new database: %v, %v", teams, err)
	}
}

// One server at a time runs as a node of a cluster; other names are free.
func TestLockNode(t *testing.T) {
	url := pgtest.Shared(t).NewDatabase(t)
	var stores [2]*Store
	for i := range stores {
		s, err := OpenPostgres(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	release, err := stores[0].LockNode(t.Context(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].LockNode(t.Context(), "n1"); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("a second server as n1: %v, want conflict", err)
	}
	other, err := stores[1].LockNode(t.Context(), "n2")
	if err != nil {
		t.Fatalf("a second server as n2: %v", err)
	}
	other()
	release()
	release2, err := stores[1].LockNode(t.Context(), "n1")
	if err != nil {
		t.Fatalf("after the first server let go: %v", err)
	}
	release2()
}

// A database an older runtools left at schema version 5 is adopted at 5,
// and goose runs 6 to 9 on it: migration 9 turns what was stopped then
// (with no disk to keep) into destroyed.
func TestOpenBeforeGooseAtVersion5(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "runtools.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(migrations, "migrations/sqlite/0000[1-5]_*.sql")
	for _, f := range files {
		b, _ := fs.ReadFile(migrations, f)
		if _, err := old.ExecContext(ctx, string(b)); err != nil { // as the old store did: all at once
			t.Fatalf("%s: %v", f, err)
		}
	}
	for _, q := range []string{"PRAGMA user_version = 5",
		"INSERT INTO teams VALUES ('team-a', 'a', 1)",
		`INSERT INTO sandboxes (id, team_id, name, template, state, vcpus, memory_mb, disk_mb, ip, secret, created_at)
			VALUES ('sandbox-old000000001', 'team-a', 'web', 'base', 'stopped', 1, 512, 2048, '10.88.0.2', 's', 1)`} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sb, err := s.GetSandbox(ctx, "sandbox-old000000001")
	if err != nil || sb.State != "destroyed" || sb.Disk != "ephemeral" || !sb.AutoStart {
		t.Errorf("the old sandbox after migrations 6 to 9: %+v, %v", sb, err)
	}
}

// latestMigration is the number of the newest SQLite migration.
func latestMigration(t *testing.T) int {
	entries, err := migrations.ReadDir("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.SplitN(entries[len(entries)-1].Name(), "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}
