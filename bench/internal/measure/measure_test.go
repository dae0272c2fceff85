package measure

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
)

func init() { SettleTime = 0 }

func TestCreateRoundRobin(t *testing.T) {
	var order []string
	removed := 0
	sys := func(name string, d time.Duration) Creator {
		return Creator{Name: name, Once: func(context.Context) (Trial, error) {
			order = append(order, name)
			return Trial{Total: d, Phases: []stats.Phase{{Name: "boot", D: d / 2}},
				Remove: func(context.Context) error { removed++; return nil }}, nil
		}}
	}
	rs, err := Create(context.Background(), []Creator{sys("a", time.Second), sys("b", 2*time.Second), sys("c", 3*time.Second)}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A warm-up round, then two counted ones, each starting one system later.
	if want := "a b c b c a c a b"; strings.Join(order, " ") != want {
		t.Errorf("order %v, want %s", order, want)
	}
	if removed != 9 {
		t.Errorf("%d trials removed, want all 9", removed)
	}
	for i, r := range rs {
		want := time.Duration(i+1) * time.Second
		if len(r.Samples) != 2 || r.Samples[0] != want || len(r.Teardown) != 2 {
			t.Errorf("%s: samples %v, teardown %v; want 2 of %v, warm-up not counted", r.Name, r.Samples, r.Teardown, want)
		}
		if got := r.Phases.Get("boot"); len(got) != 2 {
			t.Errorf("%s: boot phases %v, want 2", r.Name, got)
		}
	}
}

func TestCreateDropsOptional(t *testing.T) {
	calls := 0
	ok := Creator{Name: "ok", Once: func(context.Context) (Trial, error) { return Trial{Total: time.Millisecond}, nil }}
	flaky := Creator{Name: "flaky", Optional: true, Once: func(context.Context) (Trial, error) {
		calls++
		return Trial{}, errors.New("no podman")
	}}
	rs, err := Create(context.Background(), []Creator{ok, flaky}, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || rs[1].Dropped != "no podman" {
		t.Errorf("flaky: %d calls, dropped %q; want 1 call and dropped with its error", calls, rs[1].Dropped)
	}
	if Find(rs, "flaky") != nil || !Has(rs, "flaky") || Find(rs, "ok") == nil {
		t.Error("Find should skip the dropped system, Has should not")
	}
	required := Creator{Name: "required", Once: func(context.Context) (Trial, error) { return Trial{}, errors.New("broken") }}
	if _, err := Create(context.Background(), []Creator{ok, required}, 1, 0); err == nil || !strings.Contains(err.Error(), "required: broken") {
		t.Errorf("a failing required system gave %v, want its error", err)
	}
}

func TestExecOptionalAndTimed(t *testing.T) {
	n := 0
	rs, err := Exec(context.Background(), []Execer{
		{Name: "fast", Once: func(context.Context) (time.Duration, error) { n++; return time.Duration(n) * time.Millisecond, nil }},
		{Name: "gone", Optional: true, Once: Timed(func(context.Context) error { return errors.New("gone") })},
	}, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs[0].Samples) != 5 || rs[0].Samples[0] != 3*time.Millisecond {
		t.Errorf("fast: %v, want 5 samples after 2 warm-up runs", rs[0].Samples)
	}
	if rs[1].Dropped != "gone" {
		t.Errorf("gone: dropped %q", rs[1].Dropped)
	}
}

func TestCyclesDropsAFailingSystem(t *testing.T) {
	round := 0
	good := Cycler{Name: "good", Ops: []Op{
		func(context.Context) ([]stats.Phase, error) {
			return []stats.Phase{{Name: "pause", D: time.Millisecond}}, nil
		},
		func(context.Context) ([]stats.Phase, error) {
			return []stats.Phase{{Name: "resume", D: time.Millisecond}}, nil
		},
	}}
	bad := Cycler{Name: "bad", Ops: []Op{func(context.Context) ([]stats.Phase, error) {
		round++
		if round == 3 {
			return nil, errors.New("checkpoint failed")
		}
		return []stats.Phase{{Name: "pause", D: time.Millisecond}}, nil
	}}}
	rs, err := Cycles(context.Background(), "test", []Cycler{good, bad}, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rs[0].Phases.Names, []string{"pause", "resume"}) || len(rs[0].Phases.Get("pause")) != 4 {
		t.Errorf("good: %v", rs[0].Phases)
	}
	if rs[1].Dropped != "failed in round 2: checkpoint failed" || len(rs[1].Phases.Get("pause")) != 1 {
		t.Errorf("bad: dropped %q with %v", rs[1].Dropped, rs[1].Phases.Get("pause"))
	}
	if FindCycle(rs, "bad") != nil || PhaseP50(rs, "good", "resume") != time.Millisecond || PhaseP50(rs, "bad", "pause") != 0 {
		t.Error("FindCycle and PhaseP50 should skip the dropped system")
	}
}

func TestSettleStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep after cancel = %v, want context.Canceled", err)
	}
}
