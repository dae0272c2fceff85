package sandbox

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

// entry is what the manager keeps in memory for one sandbox: made when
// first needed, removed when the sandbox is destroyed or found gone. lock
// is its own; every other field is guarded by Manager.mu.
type entry struct {
	lock      sync.Mutex          // serializes lifecycle operations on the sandbox
	act       *activity           // what uses it, for idle pauses
	agent     *agentclient.Client // its agent's client, once called
	unwatch   context.CancelFunc  // stops following its process; nil when not followed
	vnc       bool                // a desktop whose VNC answers
	lastLimit string              // the last limit it hit since the daemon started
	record    *cachedRecord       // its record, while current
	// life ends when the sandbox is destroyed or dies: the calls in
	// flight on it end then, not when their connections time out.
	life context.Context
	end  context.CancelFunc
}

// cachedRecord is a record read from the store, and the channel the store
// closes when anything is written after that read.
type cachedRecord struct {
	sb      *Sandbox
	changed <-chan struct{}
}

// entryLocked returns the entry of sandbox id, made if need be. The caller
// holds m.mu.
func (m *Manager) entryLocked(id string) *entry {
	e, ok := m.entries[id]
	if !ok {
		e = &entry{act: newActivity(m.now())}
		e.life, e.end = context.WithCancel(context.Background())
		m.entries[id] = e
	}
	return e
}

// lock serializes lifecycle operations on one sandbox.
func (m *Manager) lock(id string) func() {
	m.mu.Lock()
	e := m.entryLocked(id)
	m.mu.Unlock()
	e.lock.Lock()
	return e.lock.Unlock
}

// activity returns the activity tracker of a sandbox.
func (m *Manager) activity(id string) *activity {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entryLocked(id).act
}

// agentFor returns the client of a sandbox's agent.
func (m *Manager) agentFor(sb *Sandbox) *agentclient.Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entryLocked(sb.ID)
	if e.agent == nil {
		e.agent = agentclient.New("http://"+sb.IP.String()+":"+strconv.Itoa(agentapi.Port), sb.Secret)
	}
	return e.agent
}

// dropAgent closes the client of a sandbox's agent, if there is one.
func (m *Manager) dropAgent(id string) {
	m.mu.Lock()
	var c *agentclient.Client
	if e := m.entries[id]; e != nil {
		c, e.agent = e.agent, nil
	}
	m.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// forget drops what the manager keeps of a sandbox that is gone, and ends
// the calls in flight on it. A holder of its lock keeps the lock it has;
// whoever comes next gets a new one and finds the record stopped.
func (m *Manager) forget(id string) {
	m.mu.Lock()
	e := m.entries[id]
	delete(m.entries, id)
	m.mu.Unlock()
	if e == nil {
		return
	}
	e.end()
	if e.unwatch != nil {
		e.unwatch()
	}
	if e.agent != nil {
		e.agent.Close()
	}
}

// forgetGone drops the entries of sandboxes that are stopped or gone: a
// reader racing a destroy can make one again after it. Each is checked
// under its lock, against the store, so that a sandbox made meanwhile
// keeps its entry.
func (m *Manager) forgetGone(ctx context.Context, alive []*Sandbox) {
	keep := make(map[string]bool, len(alive))
	for _, sb := range alive {
		keep[sb.ID] = true
	}
	m.mu.Lock()
	var suspects []*entry
	var ids []string
	for id, e := range m.entries {
		if !keep[id] {
			suspects, ids = append(suspects, e), append(ids, id)
		}
	}
	m.mu.Unlock()
	for i, e := range suspects {
		if !e.lock.TryLock() {
			continue // an operation on it is under way
		}
		sb, err := m.store.GetSandbox(ctx, ids[i])
		if errors.Is(err, errdefs.ErrNotFound) || err == nil && !sb.Live() {
			m.forget(ids[i])
		}
		e.lock.Unlock()
	}
}

// life returns the context of a sandbox's life, which ends when it is
// destroyed or dies.
func (m *Manager) life(id string) context.Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entryLocked(id).life
}

// entryCount is how many sandboxes the manager keeps in memory.
func (m *Manager) entryCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
