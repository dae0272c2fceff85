package agent

import (
	"slices"
	"sync"

	"github.com/runtools/runtools/internal/agent/agentapi"
)

// maxFinished is how many finished background processes stay listed.
const maxFinished = 100

// table lists running processes and finished background ones.
type table struct {
	mu       sync.Mutex
	procs    map[int]*process
	finished []*process // background, oldest first
}

func newTable() *table {
	return &table{procs: make(map[int]*process)}
}

func (t *table) add(p *process) {
	t.mu.Lock()
	t.procs[p.pid] = p
	t.mu.Unlock()
}

func (t *table) get(pid int) *process {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs[pid]
}

// exited drops a foreground process and keeps a background one listed,
// forgetting the oldest finished ones beyond maxFinished.
func (t *table) exited(p *process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !p.background {
		if t.procs[p.pid] == p {
			delete(t.procs, p.pid)
		}
		return
	}
	t.finished = append(t.finished, p)
	for len(t.finished) > maxFinished {
		old := t.finished[0]
		t.finished[0] = nil
		t.finished = t.finished[1:]
		if t.procs[old.pid] == old {
			delete(t.procs, old.pid)
		}
	}
}

func (t *table) list() []agentapi.Process {
	t.mu.Lock()
	out := make([]agentapi.Process, 0, len(t.procs))
	for _, p := range t.procs {
		out = append(out, p.info())
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b agentapi.Process) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return a.PID - b.PID
	})
	return out
}

func (t *table) running() []*process {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*process
	for _, p := range t.procs {
		if !p.finished() {
			out = append(out, p)
		}
	}
	return out
}
