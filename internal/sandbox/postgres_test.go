package sandbox_test

import (
	"testing"

	"github.com/runtools/runtools/internal/store/pgtest"
)

// The manager's tests that go through the store, again on PostgreSQL:
// what the manager relies on (records, events, recovery) holds there too.
func TestManagerOnPostgres(t *testing.T) {
	onPostgres = pgtest.Start(t)
	t.Cleanup(func() { onPostgres = nil })
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"CreateFailureLeavesNothing", TestCreateFailureLeavesNothing},
		{"CreateValidation", TestCreateValidation},
		{"RecoverSettlesEverything", TestRecoverSettlesEverything},
		{"RecoverAfterReboot", TestRecoverAfterReboot},
		{"Observer", TestObserver},
		{"NoEntryOutlivesItsSandbox", TestNoEntryOutlivesItsSandbox},
		{"CallsEndWithTheSandbox", TestCallsEndWithTheSandbox},
		{"DiskFullReportedOnce", TestDiskFullReportedOnce},
	} {
		t.Run(tc.name, tc.test)
	}
}
