package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// Cluster is the cluster this server is a node of (a single host is a
// cluster of one node).
type Cluster interface {
	Name() string
	Nodes(ctx context.Context) ([]cluster.Node, error)
	SetNodeState(ctx context.Context, name string, s cluster.State) error
	// Place picks the node a new sandbox of the template goes to.
	Place(ctx context.Context, template string) (cluster.Node, error)
	Forward(w http.ResponseWriter, r *http.Request, to cluster.Node, fail func(error))
	// Forwarded reports whether another node of the cluster sent r.
	Forwarded(r *http.Request) (node string, ok bool)
	// ActsFor reports the team a node's own request acts for.
	ActsFor(r *http.Request) (team string, ok bool)
	// Call asks node to of something on behalf of team.
	Call(ctx context.Context, to cluster.Node, team, method, path string, in, out any) error
}

// SetCluster makes this server a node of c: requests for sandboxes other
// nodes run go to them, and creates are placed.
func (s *Server) SetCluster(c Cluster) { s.cluster = c }

// SetMover lets sandboxes move between nodes, through m.
func (s *Server) SetMover(m Mover) { s.mover = m }

// owned serves a request about one sandbox ({ref}) here if this node runs
// it, else sends it on to the node that does. One another node sent is
// always served here: the owner has changed meanwhile, and the manager
// says where it is now, rather than the request going round. The record
// and events of a sandbox whose node is lost are read here.
func (s *Server) owned(pattern string, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	record := pattern == "GET /v1/sandboxes/{ref}" || pattern == "GET /v1/sandboxes/{ref}/events"
	resume := pattern == "POST /v1/sandboxes/{ref}/resume"
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cluster == nil {
			return h(w, r)
		}
		if _, ok := s.cluster.Forwarded(r); ok {
			return h(w, r)
		}
		sb, err := s.sandboxes.Get(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
		if err != nil || sb.Node == s.cluster.Name() || !sb.Live() {
			return h(w, r)
		}
		n, err := s.node(r.Context(), sb.Node, "sandbox "+sb.ID)
		if err != nil && record && n.Name != "" {
			return h(w, r) // its node is lost: the record is here too
		}
		if err != nil && resume && n.Name != "" && sb.State == sandbox.Paused && sb.Image != "" {
			return s.resumeElsewhere(w, r, sb)
		}
		if err != nil {
			return err
		}
		s.cluster.Forward(w, r, n, func(err error) { s.writeError(w, r, err) })
		return nil
	}
}

// node returns the node named, which serves what, if it is not lost; a
// lost one is returned with the error.
func (s *Server) node(ctx context.Context, name, what string) (cluster.Node, error) {
	nodes, err := s.cluster.Nodes(ctx)
	if err != nil {
		return cluster.Node{}, err
	}
	return cluster.Lookup(nodes, name, what, s.now())
}

// place sends a create on to the node it is placed on, and reports
// whether it did; req is the create's body, already read.
func (s *Server) place(w http.ResponseWriter, r *http.Request, req client.CreateRequest) (bool, error) {
	if s.cluster == nil {
		return false, nil
	}
	if _, ok := s.cluster.Forwarded(r); ok {
		return false, nil // placed here by the node that took it
	}
	n, err := s.cluster.Place(r.Context(), req.Template)
	if err != nil || n.Name == s.cluster.Name() {
		return false, err
	}
	if err := rebody(r, req); err != nil {
		return false, err
	}
	s.cluster.Forward(w, r, n, func(err error) { s.writeError(w, r, err) })
	return true, nil
}

// rebody makes v, as JSON, the body of r, whose own was read.
func rebody(r *http.Request, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r.Header.Set("Content-Type", "application/json")
	return nil
}

// nodeRoutes are the routes of the cluster's nodes.
func (s *Server) nodeRoutes() []route {
	return []route{
		{"GET /v1/nodes", s.listNodes},
		{"PATCH /v1/nodes/{name}", s.updateNode},
		{"POST /v1/nodes/{name}/drain", s.drainNode},
	}
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	nodes, err := s.clusterNodes(r.Context())
	if err != nil {
		return err
	}
	out := make([]client.Node, len(nodes))
	for i, n := range nodes {
		out[i] = s.wireNode(n)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"nodes": out})
}

func (s *Server) updateNode(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	var req struct {
		State string `json:"state"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	st := cluster.State(req.State)
	if st != cluster.Ready && st != cluster.Cordoned {
		return invalid("state %q: a node can be set %q (cordoned: it takes no new sandboxes, and keeps its own) or %q", req.State, cluster.Cordoned, cluster.Ready)
	}
	if s.cluster == nil {
		return fmt.Errorf("%w: this server is not a node of a cluster", errdefs.ErrNotFound)
	}
	name := r.PathValue("name")
	if err := s.cluster.SetNodeState(r.Context(), name, st); err != nil {
		return err
	}
	nodes, err := s.cluster.Nodes(r.Context())
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if n.Name == name {
			return writeJSON(w, http.StatusOK, s.wireNode(n))
		}
	}
	return fmt.Errorf("%w: no node %q", errdefs.ErrNotFound, name)
}

func (s *Server) clusterNodes(ctx context.Context) ([]cluster.Node, error) {
	if s.cluster == nil {
		return nil, nil
	}
	return s.cluster.Nodes(ctx)
}

func (s *Server) wireNode(n cluster.Node) client.Node {
	return client.Node{
		Name: n.Name, State: string(n.Status(s.now())), Self: n.Name == s.cluster.Name(), APIURL: n.APIURL,
		Sandboxes: n.Sandboxes, Slots: n.Slots, VCPUs: n.VCPUs, MemoryMB: n.MemoryMB, DiskMB: n.DiskMB,
		UsedVCPUs: n.UsedVCPUs, UsedMemoryMB: n.UsedMemory, Templates: n.Templates,
		StartedAt: n.StartedAt, HeartbeatAt: n.Heartbeat, LeaseUntil: n.LeaseEnd, LostAt: n.LostAt,
	}
}

// sandboxRoute reports whether a route acts on one sandbox: {ref} names it.
func sandboxRoute(pattern string) bool {
	return strings.Contains(pattern, " /v1/sandboxes/{ref}") && !strings.HasSuffix(pattern, "/move")
}
