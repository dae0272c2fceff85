package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/errdefs"
)

// Config holds the Manager's settings. Zero values take the defaults.
type Config struct {
	Dir             string // per-sandbox host directories live here
	SnapshotDir     string // snapshot images live here
	AgentBinary     string // static runtools binary mounted into every sandbox as its agent
	DefaultTemplate string // default "base"
	DefaultVCPUs    int    // default 2
	DefaultMemoryMB int    // default 1024
	DiskMB          int    // writable layer cap, default 2048
	MaxVCPUs        int    // default 8
	MaxMemoryMB     int    // default 16384
	Nproc           int    // RLIMIT_NPROC inside: processes and threads per user of a sandbox, default 1024
	ReadyTimeout    time.Duration
	// PausedTTL destroys a sandbox that has been paused this long; 0
	// keeps paused sandboxes for ever.
	PausedTTL time.Duration
	// MaxSnapshots is how many snapshots a sandbox keeps: a new one
	// beyond it removes the oldest unpinned; 0 keeps every one.
	MaxSnapshots int
	// Node names this server among the nodes of a cluster: it runs the
	// sandboxes recorded with this node, and only those.
	Node string
}

func (c *Config) setDefaults() {
	if c.DefaultTemplate == "" {
		c.DefaultTemplate = "base"
	}
	if c.DefaultVCPUs == 0 {
		c.DefaultVCPUs = 2
	}
	if c.DefaultMemoryMB == 0 {
		c.DefaultMemoryMB = 1024
	}
	if c.DiskMB == 0 {
		c.DiskMB = 2048
	}
	if c.MaxVCPUs == 0 {
		c.MaxVCPUs = 8
	}
	if c.MaxMemoryMB == 0 {
		c.MaxMemoryMB = 16384
	}
	if c.Nproc == 0 {
		c.Nproc = 1024
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 30 * time.Second
	}
}

// MinMemoryMB is the smallest memory a sandbox may ask for.
const MinMemoryMB = 128

// Manager owns the life of every sandbox on this host.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	rt    Runtime
	net   Network
	tpl   Templates
	store Store
	now   func() time.Time
	// countPids counts a running sandbox's processes (its agent's answer).
	countPids func(ctx context.Context, sb *Sandbox) (int, error)

	// createMu serializes address allocation and name checks with
	// inserts, and quota checks with the places they hold (quota.go).
	createMu sync.Mutex
	starting map[string]*Sandbox // sandboxes holding a place in their team's quota; guarded by createMu

	mu      sync.Mutex
	entries map[string]*entry // what it keeps in memory of each sandbox (registry.go)
	pids    pidsCounts
	wg      sync.WaitGroup

	lifeBusy map[string]bool // sandboxes whose lifetime action runs (lifetime.go); guarded by mu
	lifeWG   sync.WaitGroup  // those actions

	quiesceHooks []func(*Sandbox)
	observer     Observer   // nil: none
	disks        Disks      // nil: every disk is ephemeral
	quotas       Quotas     // nil: no limits
	volumes      VolumeHost // nil: no volumes
	images       Images     // nil: pause images stay on this node (move.go)
	moves        Moves
}

// NewManager wires a Manager. Call Recover before serving requests.
func NewManager(cfg Config, log *slog.Logger, rt Runtime, net Network, tpl Templates, store Store) (*Manager, error) {
	cfg.setDefaults()
	if cfg.Dir == "" || cfg.AgentBinary == "" {
		return nil, fmt.Errorf("%w: sandbox manager needs Dir and AgentBinary", errdefs.ErrInvalidArgument)
	}
	if cfg.SnapshotDir == "" {
		cfg.SnapshotDir = filepath.Join(filepath.Dir(cfg.Dir), "snapshots")
	}
	for _, d := range []string{cfg.Dir, cfg.SnapshotDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	m := &Manager{
		cfg: cfg, log: log.With("component", "sandbox"), rt: rt, net: net, tpl: tpl, store: store,
		now: time.Now, entries: map[string]*entry{}, lifeBusy: map[string]bool{}, starting: map[string]*Sandbox{},
	}
	m.countPids = m.agentPids
	return m, nil
}

// Get returns a team's sandbox by ID or name.
func (m *Manager) Get(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: a sandbox ID or name is required", errdefs.ErrInvalidArgument)
	}
	return m.store.FindSandbox(ctx, teamID, ref)
}

// find finds a team's sandbox that runs on this node, for an operation
// on it: one that another node of the cluster runs is that node's to touch.
func (m *Manager) find(ctx context.Context, teamID, ref string) (*Sandbox, error) {
	sb, err := m.Get(ctx, teamID, ref)
	if err != nil || sb.Node == m.cfg.Node {
		return sb, err
	}
	return nil, fmt.Errorf("%w: sandbox %s runs on node %s, not on this one (%s); send the request to %s", errdefs.ErrUnavailable, sb.ID, sb.Node, m.cfg.Node, sb.Node)
}

// own lists the sandboxes, not destroyed, that this node runs.
func (m *Manager) own(ctx context.Context) ([]*Sandbox, error) {
	list, err := m.store.ListSandboxes(ctx, "", false)
	return slices.DeleteFunc(list, func(sb *Sandbox) bool { return sb.Node != m.cfg.Node }), err
}

// getLocked finds a team's sandbox, takes its lock and reads its record
// again under it. The caller calls unlock.
func (m *Manager) getLocked(ctx context.Context, teamID, ref string) (sb *Sandbox, unlock func(), err error) {
	if sb, err = m.find(ctx, teamID, ref); err != nil {
		return nil, nil, err
	}
	unlock = m.lock(sb.ID)
	if sb, err = m.store.GetSandbox(ctx, sb.ID); err != nil {
		unlock()
		return nil, nil, err
	}
	return sb, unlock, nil
}

// exclusive finds a team's sandbox for an operation that must be the only
// one on it: it holds the sandbox's lock and claims its activity (no idle
// pause meanwhile) until done is called, and returns the record as read
// again under the lock.
func (m *Manager) exclusive(ctx context.Context, teamID, ref string) (sb *Sandbox, done func(), err error) {
	if sb, err = m.find(ctx, teamID, ref); err != nil {
		return nil, nil, err
	}
	a := m.activity(sb.ID)
	a.claim()
	unlock := m.lock(sb.ID)
	done = func() {
		unlock()
		a.release(m.now())
	}
	if sb, err = m.store.GetSandbox(context.WithoutCancel(ctx), sb.ID); err != nil {
		done()
		return nil, nil, err
	}
	return sb, done, nil
}

// List returns a team's sandboxes, newest first.
func (m *Manager) List(ctx context.Context, teamID string, includeStopped bool) ([]*Sandbox, error) {
	return m.store.ListSandboxes(ctx, teamID, includeStopped)
}

func (m *Manager) dir(id string) string { return filepath.Join(m.cfg.Dir, id) }

// use returns a client for a sandbox's agent, waking the sandbox if it is
// paused, and counts the caller as activity until it calls done. A sandbox
// is never paused for being idle between use and done.
func (m *Manager) use(ctx context.Context, teamID, ref string) (ag *agentclient.Client, sb *Sandbox, done func(), err error) {
	if ag, sb, done, ok := m.useCached(ctx, teamID, ref); ok {
		return ag, sb, done, nil
	}
	if sb, err = m.find(ctx, teamID, ref); err != nil {
		return nil, nil, nil, err
	}
	a := m.activity(sb.ID)
	a.begin(m.now)
	release := func() { a.end(m.now) }
	defer func() {
		if err != nil {
			release()
		}
	}()
	if sb, err = m.store.GetSandbox(ctx, sb.ID); err != nil {
		return nil, nil, nil, err
	}
	if sb.State == Paused || sb.State == Stopped && sb.AutoStart {
		if sb, err = m.wake(ctx, sb.ID); err != nil {
			return nil, sb, nil, err
		}
	}
	if sb.State != Running {
		return nil, sb, nil, notRunning(sb)
	}
	return m.agentFor(sb), sb, release, nil
}

func notRunning(sb *Sandbox) error {
	if sb.State == Stopped {
		return fmt.Errorf("%w: sandbox %s is stopped (%s); start it with `runtools sandbox start %s`", errdefs.ErrConflict, sb.ID, sb.StopReason, sb.ID)
	}
	if sb.StopReason != "" {
		return fmt.Errorf("%w: sandbox %s is %s (%s)", errdefs.ErrConflict, sb.ID, sb.State, sb.StopReason)
	}
	return fmt.Errorf("%w: sandbox %s is %s", errdefs.ErrConflict, sb.ID, sb.State)
}

// Exec runs a command in a running sandbox, streaming events to onEvent.
// The sandbox's own environment is the base the request's Env overrides.
func (m *Manager) Exec(ctx context.Context, teamID, ref string, req agentapi.ExecRequest, onEvent func(agentapi.Event) error) (err error) {
	t := m.timeExec(ctx)
	defer func() { t.done(err) }()
	s, err := m.Open(ctx, teamID, ref)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Exec(ctx, req, t.events(onEvent))
}

// Start runs a background command in a running sandbox.
func (m *Manager) Start(ctx context.Context, teamID, ref string, req agentapi.ExecRequest) (_ int, err error) {
	defer m.observe(OpStart, m.now(), &err)
	s, err := m.Open(ctx, teamID, ref)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return s.Start(ctx, req)
}

// gone says what became of a sandbox that ended while a call ran on it.
func (m *Manager) gone(ctx context.Context, sb *Sandbox) error {
	if now, err := m.store.GetSandbox(ctx, sb.ID); err == nil && (now.State == Stopped || now.State == Destroyed) {
		return fmt.Errorf("%w: sandbox %s stopped while the call ran (%s)", errdefs.ErrConflict, sb.ID, now.StopReason)
	}
	return fmt.Errorf("%w: sandbox %s stopped while the call ran", errdefs.ErrConflict, sb.ID)
}

// explain turns an agent that cannot be reached into the sandbox's own
// story when the sandbox has meanwhile died.
func (m *Manager) explain(ctx context.Context, sb *Sandbox, err error) error {
	if err == nil || !errors.Is(err, errdefs.ErrUnavailable) {
		return err
	}
	if ok, rerr := m.rt.Running(ctx, sb.ID); rerr == nil && !ok {
		return fmt.Errorf("%w: sandbox %s is no longer running", errdefs.ErrConflict, sb.ID)
	}
	return err
}

// Shutdown stops watching sandboxes; they keep running and are adopted
// again by the next Recover.
func (m *Manager) Shutdown() {
	m.mu.Lock()
	for _, e := range m.entries {
		if e.unwatch != nil {
			e.unwatch()
			e.unwatch = nil
		}
		if e.agent != nil {
			e.agent.Close()
			e.agent = nil
		}
	}
	m.mu.Unlock()
	m.wg.Wait()
	m.lifeWG.Wait()
	m.pids.wg.Wait()
}

func joinEnv(kv map[string]string) []string {
	out := make([]string, 0, len(kv))
	for k, v := range kv {
		out = append(out, k+"="+v)
	}
	return out
}

func dnsList(m *Manager) string {
	var parts []string
	for _, a := range m.net.DNS() {
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ",")
}
