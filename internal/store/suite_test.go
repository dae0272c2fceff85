package store

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store/pgtest"
)

// The tests of this package form a conformance suite: each one that
// takes a database runs once on SQLite and once on PostgreSQL, through
// eachBackend.

func TestMain(m *testing.M) { pgtest.Main(m) }

// testDB is one database of a backend, empty at first.
type testDB struct {
	name string // of the backend
	try  func(context.Context) (*Store, error)
}

// open opens the database (again); the store is closed at the end of the test.
func (d testDB) open(t *testing.T) *Store {
	t.Helper()
	s, err := d.try(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs test on a fresh, empty database of each backend.
func eachBackend(t *testing.T, test func(t *testing.T, tdb testDB)) {
	backends := []struct {
		name string
		db   func(t *testing.T) func(context.Context) (*Store, error)
	}{
		{"sqlite", func(t *testing.T) func(context.Context) (*Store, error) {
			path := filepath.Join(t.TempDir(), "runtools.db")
			return func(ctx context.Context) (*Store, error) { return Open(ctx, path) }
		}},
		{"postgres", func(t *testing.T) func(context.Context) (*Store, error) {
			url := pgtest.Shared(t).NewDatabase(t)
			return func(ctx context.Context) (*Store, error) { return OpenPostgres(ctx, url) }
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			test(t, testDB{b.name, b.db(t)})
		})
	}
}

// withTeams opens the database and records teams a and b.
func withTeams(t *testing.T, tdb testDB) *Store {
	t.Helper()
	s := tdb.open(t)
	for _, name := range []string{"a", "b"} {
		if err := s.CreateTeam(t.Context(), auth.Team{ID: "team-" + name, Name: name, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func newSandbox(team, name, ip string) *sandbox.Sandbox {
	return &sandbox.Sandbox{ID: sandbox.NewID(), TeamID: team, Name: name, Template: "base", State: sandbox.Creating,
		VCPUs: 2, MemoryMB: 1024, DiskMB: 2048, IP: netip.MustParseAddr(ip), Secret: "s",
		Env: map[string]string{"A": "1"}, CreatedAt: time.Now().UTC()}
}
