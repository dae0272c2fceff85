package daemon

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/network"
	"github.com/runtools/runtools/internal/resolver"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// startNetwork takes the bridge for this server (see lockBridge; release
// gives it up) and readies the host for sandboxes, with the firewall
// holding every recorded live sandbox, so no policy lapses across a
// restart.
func startNetwork(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) (_ *network.Manager, release func(), err error) {
	release, err = lockBridge(cmp.Or(cfg.Bridge, network.DefaultBridge), cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	netw, err := network.New(network.Config{Bridge: cfg.Bridge, Subnet: cfg.Subnet, AgentPort: agentapi.Port}, log)
	if err != nil {
		return nil, nil, err
	}
	live, err := st.ListSandboxes(ctx, "", false)
	if err != nil {
		return nil, nil, fmt.Errorf("listing sandboxes for the firewall: %w", err)
	}
	var members []network.Member
	for _, sb := range live {
		if sb.Node == cfg.Node.Name && sb.IP.IsValid() && netw.Subnet().Contains(sb.IP) && sb.State != sandbox.Error {
			members = append(members, member(sb))
		}
	}
	if err := netw.Init(ctx, members); err != nil {
		return nil, nil, fmt.Errorf("setting up the sandbox network: %w", err)
	}
	return netw, release, nil
}

// startResolver serves DNS to sandboxes on the gateway.
func startResolver(netw *network.Manager, mgr *sandbox.Manager, log *slog.Logger) (*resolver.Server, error) {
	res := resolver.New(directory{netw, mgr}, netw, netw.DNS(), log)
	if err := res.Listen(netip.AddrPortFrom(netw.Gateway(), 53)); err != nil {
		return nil, fmt.Errorf("starting the sandboxes' resolver (is something else serving DNS on %s?): %w", netw.Gateway(), err)
	}
	return res, nil
}

// member is what the firewall needs of a sandbox.
func member(sb *sandbox.Sandbox) network.Member {
	r := sb.Egress.Rules()
	return network.Member{
		ID: sb.ID, IP: sb.IP, Team: sb.TeamID,
		DenyAll: r.DenyAll, Allow: r.AllowCIDRs, Deny: r.DenyCIDRs,
		AllowDomains: r.AllowDomains, DenyDomains: r.DenyDomains,
	}
}

// netAdapter gives the sandbox manager the network, with policies made
// from its sandboxes; their nameserver is the daemon's resolver.
type netAdapter struct{ *network.Manager }

func (a netAdapter) Setup(ctx context.Context, sb *sandbox.Sandbox) (string, error) {
	return a.Manager.Setup(ctx, sb.ID, sb.IP)
}

func (a netAdapter) Apply(ctx context.Context, sb *sandbox.Sandbox) error {
	return a.Manager.Apply(ctx, member(sb))
}

func (a netAdapter) DNS() []netip.Addr { return []netip.Addr{a.Gateway()} }

// directory finds sandboxes for the resolver.
type directory struct {
	net *network.Manager
	mgr *sandbox.Manager
}

func (d directory) Client(ctx context.Context, addr netip.Addr) (resolver.Client, bool) {
	mb, ok := d.net.Member(addr)
	if !ok {
		return resolver.Client{}, false
	}
	sb, err := d.mgr.Record(ctx, mb.ID) // every lookup asks: from memory
	if err != nil || sb.TeamID != mb.Team {
		return resolver.Client{}, false
	}
	return resolver.Client{ID: sb.ID, Team: sb.TeamID, Rules: sb.Egress.Rules()}, true
}

func (d directory) Lookup(ctx context.Context, team, name string) (netip.Addr, bool) {
	sb, err := d.mgr.Get(ctx, team, name)
	if err != nil || !sb.Live() || sb.State == sandbox.Error {
		return netip.Addr{}, false
	}
	return sb.IP, true
}

var (
	_ sandbox.Network   = netAdapter{}
	_ resolver.Firewall = (*network.Manager)(nil)
)
