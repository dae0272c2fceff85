package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/proxy"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// ProxyKeyFile holds the key that signs dev-server links, mode 0600.
const ProxyKeyFile = "proxy-key"

// startProxy serves the dev-server URLs until ctx ends.
func startProxy(ctx context.Context, cfg Config, mgr *sandbox.Manager, st *store.Store, obs proxy.Observer, log *slog.Logger) (*proxy.Proxy, error) {
	key, err := proxyKey(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Proxy.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for the dev-server proxy: %w", cfg.Proxy.Listen, err)
	}
	_, portText, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(portText)
	px, err := proxy.New(proxy.Config{
		Domain: cfg.Proxy.Domain, PublicPort: port,
		CertFile: cfg.Proxy.CertFile, KeyFile: cfg.Proxy.KeyFile,
		ACME: cfg.Proxy.ACME, ACMEEmail: cfg.Proxy.ACMEEmail, ACMECacheDir: cfg.path("acme"),
		ReservedPorts: []int{agentapi.Port},
		SigningKey:    key,
		Observer:      obs,
	}, routes{mgr, &peers{st: st}}, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	// Connections into a sandbox must be closed before it is saved.
	mgr.OnQuiesce(func(sb *sandbox.Sandbox) {
		for _, p := range sb.Ports {
			px.CloseIdle(net.JoinHostPort(sb.IP.String(), strconv.Itoa(p)))
		}
	})
	go func() {
		if err := px.Serve(ctx, ln); err != nil {
			log.Error("dev-server proxy stopped", "err", err)
		}
	}()
	log.Info("dev-server proxy ready", "listen", ln.Addr().String(), "example", px.URL("sandbox-xxxxxxxxxxxx", 3000))
	return px, nil
}

// routes adapts the sandbox manager to the proxy.
type routes struct {
	m     *sandbox.Manager
	peers *peers
}

func (r routes) Resolve(ctx context.Context, id string, port int) (proxy.Route, error) {
	rt, err := r.m.Route(ctx, id, port)
	if err != nil || rt.Node == "" {
		return proxy.Route{Addr: rt.Addr, Public: rt.Public, Token: rt.Token, Wake: rt.Wake, Done: rt.Done}, err
	}
	n, err := r.peers.get(ctx, rt.Node)
	if err != nil {
		return proxy.Route{}, err
	}
	if n.ProxyAddr == "" {
		return proxy.Route{}, fmt.Errorf("%w: sandbox %s runs on node %s, which serves no dev-server URLs (--proxy-listen)", errdefs.ErrUnavailable, id, n.Name)
	}
	return proxy.Route{Via: n.ProxyAddr}, nil
}

// proxyKey is the key that signs dev-server links and cookies: the
// cluster's, so that any node's proxy takes them, or this host's own.
func proxyKey(ctx context.Context, cfg Config, st *store.Store) ([]byte, error) {
	if cfg.Cluster == "" {
		return signingKey(cfg.path(ProxyKeyFile))
	}
	secret, err := st.ClusterSecret(ctx)
	if err != nil {
		return nil, err
	}
	return cluster.DeriveKey(secret, "runtools dev-server links"), nil
}

// signingKey reads the proxy's signing key, making it on first use.
func signingKey(path string) ([]byte, error) {
	if key, err := os.ReadFile(path); err == nil && len(key) >= 32 {
		return key, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("storing the proxy signing key: %w", err)
	}
	return key, nil
}
