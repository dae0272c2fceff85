package sandbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu  sync.Mutex
	ops []observed
}

type observed struct {
	op  string
	d   time.Duration
	err error
}

func (r *recorder) Observe(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, observed{op, d, err})
}

func (r *recorder) take() []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ops
	r.ops = nil
	return out
}

func TestObserver(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	e.mgr.SetObserver(rec)
	ctx := context.Background()

	check := func(what, op string, kind error) {
		t.Helper()
		got := rec.take()
		if len(got) != 1 || got[0].op != op || got[0].d < 0 {
			t.Fatalf("%s: observed %+v, want one %s", what, got, op)
		}
		if kind == nil && got[0].err != nil || kind != nil && !errors.Is(got[0].err, kind) {
			t.Errorf("%s: observed error %v, want %v", what, got[0].err, kind)
		}
	}

	_, err := e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Name: "BAD"})
	if err == nil {
		t.Fatal("create with a bad name succeeded")
	}
	check("invalid create", sandbox.OpCreate, errdefs.ErrInvalidArgument)

	// The fake sandbox's agent never answers.
	if _, err = e.mgr.Create(ctx, "team-a", sandbox.CreateOptions{Name: "x"}); err == nil {
		t.Fatal("create succeeded")
	}
	check("create without an agent", sandbox.OpCreate, errdefs.ErrUnavailable)

	err = e.mgr.Exec(ctx, "team-a", "x", agentapi.ExecRequest{Cmd: []string{"true"}}, func(agentapi.Event) error { return nil })
	if err == nil {
		t.Fatal("exec in a stopped sandbox succeeded")
	}
	check("exec in a stopped sandbox", sandbox.OpExec, errdefs.ErrNotFound)

	all, _ := e.st.ListSandboxes(ctx, "team-a", true)
	if _, err := e.mgr.Destroy(ctx, "team-a", all[0].ID); err != nil {
		t.Fatal(err)
	}
	check("destroying a stopped sandbox", sandbox.OpDestroy, nil)

	// An exec whose caller went away is reported as such.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = e.mgr.Exec(cctx, "team-a", all[0].ID, agentapi.ExecRequest{Cmd: []string{"true"}}, func(agentapi.Event) error { return nil })
	check("exec of a caller gone", sandbox.OpExec, context.Canceled)

	// Without an observer nothing breaks.
	e.mgr.SetObserver(nil)
	_, _ = e.mgr.Destroy(ctx, "team-a", all[0].ID)
}
