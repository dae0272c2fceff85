package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"syscall"

	"github.com/runtools/runtools/internal/apiserver"
	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/objstore"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
	"github.com/runtools/runtools/internal/template"
)

// node is this server as a node of its cluster, for the API. A single
// host (no --cluster) is a cluster of one, solo: it places and forwards
// nothing.
type node struct {
	*cluster.Member
	*cluster.Forwarder
	st   *store.Store
	solo bool
}

func (n *node) SetNodeState(ctx context.Context, name string, s cluster.State) error {
	return n.st.SetNodeState(ctx, name, s)
}

// Place picks the node for a sandbox of template ("" for the default).
func (n *node) Place(ctx context.Context, template string) (cluster.Node, error) {
	if n.solo {
		return cluster.Node{Name: n.Name()}, nil
	}
	if template == "" {
		template = "base"
	}
	return n.Member.Place(ctx, template)
}

// Forwarded reports whether another node sent r; a single host has none.
func (n *node) Forwarded(r *http.Request) (string, bool) {
	if n.solo {
		return n.Name(), true
	}
	return n.Forwarder.Forwarded(r)
}

// joinCluster registers this server as a node, with what it has, and
// keeps its lease alive until ctx ends.
func joinCluster(ctx context.Context, cfg Config, st *store.Store, tpl *template.Manager, mgr *sandbox.Manager, log *slog.Logger) (*node, error) {
	secret, err := st.ClusterSecret(ctx)
	if err != nil {
		return nil, err
	}
	self := cluster.Node{Name: cfg.Node.Name, APIURL: "http://" + advertised(cfg.Node.Advertise, cfg.Listen),
		VCPUs: runtime.NumCPU(), Slots: cfg.Node.Slots, MemoryMB: hostMemoryMB(), DiskMB: freeMB(cfg.DataDir)}
	if cfg.Proxy.Listen != "" {
		self.ProxyAddr = advertised(cfg.Node.Advertise, cfg.Proxy.Listen)
	}
	if cfg.SSH.Listen != "" {
		self.SSHAddr = advertised(cfg.Node.Advertise, cfg.SSH.Listen)
	}
	if infos, err := tpl.List(ctx); err == nil {
		for _, i := range infos {
			if i.Status == "ready" {
				self.Templates = append(self.Templates, i.Name)
			}
		}
	}
	m := cluster.NewMember(st, self, cfg.Node.Lease, log)
	m.OnBack(mgr.AdoptBack)
	if err := m.Join(ctx); err != nil {
		return nil, err
	}
	go m.Run(ctx)
	go st.Listen(ctx, log)
	return &node{Member: m, Forwarder: cluster.NewForwarder(self.Name, cluster.NewSigner(secret)), st: st, solo: cfg.Cluster == ""}, nil
}

// useObjectStore stores paused sandboxes' images in the object store, if
// one is set, so that they resume on any node, and lets them move.
func useObjectStore(ctx context.Context, cfg Config, mgr *sandbox.Manager, st *store.Store, api *apiserver.Server, log *slog.Logger) error {
	if cfg.ObjectStore == "" {
		return nil
	}
	if cfg.Cluster == "" {
		return fmt.Errorf("--object-store needs --cluster: it lets the nodes of a cluster resume each other's sandboxes")
	}
	obj, err := objstore.Open(ctx, cfg.ObjectStore)
	if err != nil {
		return fmt.Errorf("opening the object store: %w", err)
	}
	mgr.SetImages(obj, st)
	api.SetMover(mgr)
	log.Info("paused sandboxes' images go to the object store too", "store", redactURL(cfg.ObjectStore))
	return nil
}

// redactURL is a URL without its user information, for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	u.User = nil
	return u.String()
}

// advertised is the HOST:PORT the other nodes reach a listener at: the
// advertised host (else the listener's own, else this host's first
// address) with the listener's port.
func advertised(host, listen string) string {
	lhost, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" {
		host = lhost
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = firstAddress()
	}
	return net.JoinHostPort(host, port)
}

// firstAddress is this host's first global unicast IPv4 address, or the
// loopback one.
func firstAddress() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
			return ipn.IP.String()
		}
	}
	return "127.0.0.1"
}

func hostMemoryMB() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit) >> 20
}

func freeMB(dir string) int64 {
	var fs syscall.Statfs_t
	if syscall.Statfs(dir, &fs) != nil {
		return 0
	}
	return int64(fs.Bavail) * fs.Bsize >> 20
}
