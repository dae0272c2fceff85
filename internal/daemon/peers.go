package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/runtools/runtools/internal/cluster"
)

// peersTTL is how long the list of nodes is used before it is read again:
// addresses change only when a node restarts elsewhere.
const peersTTL = 2 * time.Second

// peers finds the cluster's nodes for the dev-server proxy and the SSH
// gateway, which relay to the node that runs a sandbox, without a query
// per request.
type peers struct {
	st interface {
		Nodes(context.Context) ([]cluster.Node, error)
	}
	mu  sync.Mutex
	at  time.Time
	all []cluster.Node
}

// get returns the node named, if it is not lost.
func (p *peers) get(ctx context.Context, name string) (cluster.Node, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.at) > peersTTL {
		all, err := p.st.Nodes(ctx)
		if err != nil {
			return cluster.Node{}, err
		}
		p.all, p.at = all, now
	}
	return cluster.Lookup(p.all, name, "the sandbox", now)
}
