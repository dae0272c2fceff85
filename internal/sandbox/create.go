package sandbox

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/egress"
	"github.com/runtools/runtools/internal/errdefs"
	"golang.org/x/crypto/bcrypt"
)

// CreateOptions is what a caller may choose about a new sandbox.
type CreateOptions struct {
	Name     string
	Template string
	VCPUs    int
	MemoryMB int
	Env      map[string]string
	Metadata map[string]string
	// IdleTimeout pauses the sandbox after this long without activity;
	// nil takes DefaultIdleTimeout, 0 never pauses it.
	IdleTimeout *time.Duration
	Public      bool   // dev-server URLs open to anyone
	Ports       []int  // exposed in addition to DefaultPorts
	Password    string // SSH password, "" for none (keys still work)
	Egress      egress.Policy
	// Disk is DiskDurable (the default where the server has durable
	// disks) or DiskEphemeral.
	Disk string
	// AutoStart: a use of the sandbox when it is stopped starts it; nil
	// takes true.
	AutoStart *bool
	Labels    map[string]string
	// Timeout is the sandbox's hard lifetime (0: none): when it runs out
	// the sandbox is destroyed, or paused if OnTimeout is OnTimeoutPause.
	Timeout   time.Duration
	OnTimeout string
	// Volumes are the team's volumes to mount, by name (VolumeID empty).
	Volumes []VolumeMount

	// RootFS, set only inside the daemon, is a root filesystem prepared by
	// the caller (a template build's stack) instead of Template's; with
	// WritableRoot the sandbox writes into it (a build step's layer).
	RootFS       string
	WritableRoot bool
}

// validate checks opts and fills in the defaults, the template's first.
func (m *Manager) validate(opts *CreateOptions, tpl Template) error {
	if opts.Name != "" {
		if err := ValidateName(opts.Name); err != nil {
			return err
		}
	}
	if opts.VCPUs == 0 {
		opts.VCPUs = m.cfg.DefaultVCPUs
	}
	if opts.MemoryMB == 0 {
		opts.MemoryMB = cmp.Or(tpl.MemoryMB, m.cfg.DefaultMemoryMB)
	}
	if opts.VCPUs < 1 || opts.VCPUs > m.cfg.MaxVCPUs {
		return fmt.Errorf("%w: vcpus must be between 1 and %d, got %d", errdefs.ErrInvalidArgument, m.cfg.MaxVCPUs, opts.VCPUs)
	}
	if opts.MemoryMB < MinMemoryMB || opts.MemoryMB > m.cfg.MaxMemoryMB {
		return fmt.Errorf("%w: memory must be between %d and %d MB, got %d", errdefs.ErrInvalidArgument, MinMemoryMB, m.cfg.MaxMemoryMB, opts.MemoryMB)
	}
	for k := range opts.Env {
		if !validEnvKey(k) {
			return fmt.Errorf("%w: environment variable name %q is not valid", errdefs.ErrInvalidArgument, k)
		}
	}
	if opts.IdleTimeout == nil {
		d := DefaultIdleTimeout
		opts.IdleTimeout = &d
	}
	if err := validIdleTimeout(*opts.IdleTimeout); err != nil {
		return err
	}
	if opts.Password != "" && (len(opts.Password) < 8 || len(opts.Password) > 72) {
		return fmt.Errorf("%w: an SSH password needs 8 to 72 characters", errdefs.ErrInvalidArgument)
	}
	for _, p := range opts.Ports {
		if err := validPort(p); err != nil {
			return err
		}
	}
	p, err := opts.Egress.Normalize()
	if err != nil {
		return err
	}
	opts.Egress = p
	if opts.RootFS != "" {
		opts.Disk = DiskEphemeral // a build step's: its own layer, or thrown away
	}
	if opts.Disk, err = m.diskKind(opts.Disk); err != nil {
		return err
	}
	if opts.AutoStart == nil {
		yes := true
		opts.AutoStart = &yes
	}
	if len(opts.Metadata) > 64 {
		return fmt.Errorf("%w: at most 64 metadata entries", errdefs.ErrInvalidArgument)
	}
	if err := ValidateLabels(opts.Labels); err != nil {
		return err
	}
	if err := validateMounts(opts.Volumes); err != nil {
		return err
	}
	return validTimeout(opts.Timeout, &opts.OnTimeout)
}

func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Create makes a sandbox and returns once its agent answers. Every step
// registers its undo, so a failure at any point leaves nothing behind but
// a stopped record that says why.
//
// A custom template's start command runs once the sandbox is up, and
// Create waits for its first exposed port (see startCommand).
func (m *Manager) Create(ctx context.Context, teamID string, opts CreateOptions) (_ *Sandbox, retErr error) {
	defer m.observe(OpCreate, m.now(), &retErr)
	sb, tpl, err := m.create(ctx, teamID, opts)
	if err != nil {
		return nil, err
	}
	m.startCommand(context.WithoutCancel(ctx), sb, tpl)
	return sb, nil
}

func (m *Manager) create(ctx context.Context, teamID string, opts CreateOptions) (_ *Sandbox, _ Template, retErr error) {
	sb, tpl, release, err := m.admit(ctx, teamID, opts)
	if err != nil {
		return nil, Template{}, err
	}
	defer release()
	ctx = context.WithoutCancel(ctx) // the work goes on if the caller goes away; it can destroy it
	log := m.log.With("sandbox", sb.ID, "team", teamID)
	unlock := m.lock(sb.ID)
	defer unlock()

	if err := m.insert(ctx, sb); err != nil {
		return nil, Template{}, err
	}
	var u undo
	defer u.run(ctx, log)
	u.add("mark record failed", func(ctx context.Context) error {
		reason := ReasonCreateFail
		if retErr != nil {
			reason += ": " + retErr.Error()
		}
		defer m.forget(sb.ID)
		return m.markGone(ctx, sb, Destroyed, reason)
	})
	if err := os.MkdirAll(m.dir(sb.ID), 0o700); err != nil {
		return nil, Template{}, fmt.Errorf("creating sandbox directory: %w", err)
	}
	u.add("remove directory", func(context.Context) error { return m.removeDir(sb.ID) })
	if sb.durable() {
		if err := m.disks.Create(ctx, m.dir(sb.ID), tpl.RootFS, sb.DiskMB); err != nil {
			return nil, Template{}, err
		}
	}

	nsPath, err := m.net.Setup(ctx, sb)
	if err != nil {
		return nil, Template{}, fmt.Errorf("setting up network: %w", err)
	}
	u.add("tear down network", func(ctx context.Context) error { return m.net.Teardown(ctx, sb.ID) })
	// An egress policy is in place before the sandbox starts. Without one,
	// the team's network is joined while it boots: until then it reaches
	// no other sandbox, which fails closed.
	applied := make(chan error, 1)
	policy := sync.OnceValue(func() error { return <-applied })
	u.add("wait for the network policy", func(context.Context) error { _ = policy(); return nil })
	if sb.Egress.IsDefault() {
		go func() { applied <- m.net.Apply(ctx, sb) }()
	} else if applied <- m.net.Apply(ctx, sb); policy() != nil {
		return nil, Template{}, fmt.Errorf("applying the network policy: %w", policy())
	}

	spec, err := m.createSpec(sb, tpl, nsPath, opts.WritableRoot)
	if err != nil {
		return nil, Template{}, err
	}
	if err := m.rt.Start(ctx, spec); err != nil {
		return nil, Template{}, fmt.Errorf("starting sandbox: %w", err)
	}
	u.add("destroy runtime", func(ctx context.Context) error { return m.rt.Destroy(ctx, sb.ID) })
	u.add("drop agent client", func(context.Context) error { m.dropAgent(sb.ID); return nil })

	readyCtx, cancel := context.WithTimeout(ctx, m.cfg.ReadyTimeout)
	err = m.agentFor(sb).WaitReady(readyCtx, 2*time.Millisecond)
	cancel()
	if err != nil {
		return nil, Template{}, fmt.Errorf("%w: the sandbox's agent did not answer within %s: %v", errdefs.ErrUnavailable, m.cfg.ReadyTimeout, err)
	}
	if err := policy(); err != nil {
		return nil, Template{}, fmt.Errorf("applying the network policy: %w", err)
	}
	sb.State, sb.StartedAt, sb.Why = Running, m.now().UTC(), "created"
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, Template{}, fmt.Errorf("recording sandbox as running: %w", err)
	}
	u.release()
	m.watch(sb.ID)
	log.Info("sandbox created", "template", tpl.Name, "ip", sb.IP, "vcpus", sb.VCPUs, "memory_mb", sb.MemoryMB)
	return sb, tpl, nil
}

// createSpec is what the runtime starts a new sandbox sb of tpl with, in
// the namespace at nsPath, its durable disk mounted.
func (m *Manager) createSpec(sb *Sandbox, tpl Template, nsPath string, writableRoot bool) (RunSpec, error) {
	spec := m.runSpec(sb, nsPath)
	spec.RootFS, spec.WritableRoot = tpl.RootFS, writableRoot
	if err := m.mountDisk(sb, &spec, ""); err != nil {
		return spec, err
	}
	if err := m.bindVolumes(sb, &spec); err != nil {
		return spec, err
	}
	spec.Env = append(spec.Env, templateEnv(tpl)...)
	if writableRoot {
		// A build step runs no template services: they would write
		// their state (an X server's lock, caches) into the layer.
		spec.Env = append(spec.Env, agentapi.EnvNoHooks+"=1")
	}
	return spec, nil
}

// admit makes the new sandbox's record, not yet stored, and holds its
// place in the team's quota until the caller calls release.
func (m *Manager) admit(ctx context.Context, teamID string, opts CreateOptions) (_ *Sandbox, _ Template, release func(), _ error) {
	sb, tpl, err := m.newRecord(ctx, teamID, opts)
	if err != nil {
		return nil, Template{}, nil, err
	}
	if release, err = m.reserve(ctx, sb); err != nil {
		return nil, Template{}, nil, err
	}
	return sb, tpl, release, nil
}

// newRecord checks opts against the template they name and makes the new
// sandbox's record, not yet stored.
func (m *Manager) newRecord(ctx context.Context, teamID string, opts CreateOptions) (*Sandbox, Template, error) {
	if opts.Template == "" {
		opts.Template = m.cfg.DefaultTemplate
	}
	if opts.Name != "" {
		if err := ValidateName(opts.Name); err != nil {
			return nil, Template{}, err
		}
	}
	tpl, err := m.template(ctx, teamID, opts)
	if err != nil {
		return nil, Template{}, err
	}
	if err := m.validate(&opts, tpl); err != nil {
		return nil, Template{}, err
	}
	var passwordHash string
	if opts.Password != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(opts.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, Template{}, fmt.Errorf("hashing the SSH password: %w", err)
		}
		passwordHash = string(h)
	}
	sb := &Sandbox{
		ID: NewID(), TeamID: teamID, Name: opts.Name, Template: tpl.Name, State: Creating,
		VCPUs: opts.VCPUs, MemoryMB: opts.MemoryMB, DiskMB: m.cfg.DiskMB,
		Secret: NewSecret(), Env: opts.Env, Metadata: opts.Metadata, CreatedAt: m.now().UTC(),
		IdleTimeout: *opts.IdleTimeout, Why: "create",
		Public: opts.Public, Ports: mergePorts(DefaultPorts, mergePorts(tpl.Ports, opts.Ports)), AccessToken: NewSecret(),
		PasswordHash: passwordHash, Desktop: tpl.Desktop, Egress: opts.Egress,
		Disk: opts.Disk, AutoStart: *opts.AutoStart, Labels: opts.Labels, OnTimeout: opts.OnTimeout,
		Volumes: opts.Volumes,
	}
	if opts.Timeout > 0 {
		sb.TimeoutAt = sb.CreatedAt.Add(opts.Timeout)
	}
	return sb, tpl, nil
}

// insert allocates an address and records the sandbox as creating. Names
// and addresses are checked and taken under one lock.
func (m *Manager) insert(ctx context.Context, sb *Sandbox) error {
	m.createMu.Lock()
	defer m.createMu.Unlock()
	sb.Node = m.cfg.Node
	used, err := m.store.LiveIPs(ctx, m.cfg.Node)
	if err != nil {
		return fmt.Errorf("listing used addresses: %w", err)
	}
	if sb.IP, err = m.net.Allocate(used); err != nil {
		return fmt.Errorf("allocating an address: %w", err)
	}
	if err := m.resolveMounts(ctx, sb); err != nil {
		return err
	}
	return m.store.InsertSandbox(ctx, sb)
}

// markGone records sb as stopped or destroyed, with the reason.
func (m *Manager) markGone(ctx context.Context, sb *Sandbox, state State, reason string) error {
	sb.State, sb.StopReason, sb.StoppedAt, sb.Why = state, reason, m.now().UTC(), reason
	return m.store.UpdateSandbox(ctx, sb)
}

// runSpec is what the runtime needs to start sb in the namespace at nsPath.
func (m *Manager) runSpec(sb *Sandbox, nsPath string) RunSpec {
	hostname := sb.Name
	if hostname == "" {
		hostname = sb.ID
	}
	return RunSpec{
		ID: sb.ID, Dir: m.dir(sb.ID), NetNS: nsPath, Hostname: hostname,
		Agent: m.cfg.AgentBinary, VCPUs: sb.VCPUs, MemoryMB: sb.MemoryMB, DiskMB: sb.DiskMB,
		Platform: platformFor(sb),
		Env: []string{
			agentapi.EnvToken + "=" + sb.Secret,
			agentapi.EnvDNS + "=" + dnsList(m),
			agentapi.EnvHostname + "=" + hostname,
			agentapi.EnvNproc + "=" + strconv.Itoa(m.cfg.Nproc),
		},
	}
}

// MaxIdleTimeout bounds a sandbox's idle timeout: a week.
const MaxIdleTimeout = 7 * 24 * time.Hour

func validIdleTimeout(d time.Duration) error {
	if d < 0 || d > MaxIdleTimeout {
		return fmt.Errorf("%w: idle timeout must be between 0 (never pause) and %s, got %s", errdefs.ErrInvalidArgument, MaxIdleTimeout, d)
	}
	return nil
}

func mergePorts(a, b []int) []int {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
