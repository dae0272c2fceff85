package store

import (
	"maps"
	"testing"

	"github.com/runtools/runtools/internal/sandbox"
)

func TestCountByState(t *testing.T) { eachBackend(t, testCountByState) }

func testCountByState(t *testing.T, tdb testDB) {
	s := withTeams(t, tdb)
	ctx := t.Context()
	got, err := s.CountByState(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	for i, st := range []sandbox.State{sandbox.Running, sandbox.Running, sandbox.Paused, sandbox.Stopped} {
		sb := newSandbox("team-a", "", "10.88.0."+string(rune('2'+i)))
		if err := s.InsertSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		sb.State = st
		if err := s.UpdateSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	got, err = s.CountByState(ctx)
	if want := map[string]int{"running": 2, "paused": 1, "stopped": 1}; err != nil || !maps.Equal(got, want) {
		t.Errorf("counts %v, %v; want %v", got, err, want)
	}
}
