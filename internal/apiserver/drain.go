package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/cluster"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
)

// storeTimeout bounds the wait for a paused sandbox's image to reach the
// object store during a drain.
const storeTimeout = 10 * time.Minute

// drainNode drains a node: it takes no new sandboxes, and each sandbox
// running on it is paused and resumed on another node, one after the
// other. The node drains itself: a request to another node goes there.
// Progress streams as NDJSON, a DrainEvent per sandbox, then a summary.
func (s *Server) drainNode(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	if s.cluster == nil || s.mover == nil {
		return fmt.Errorf("%w: draining needs a cluster with an object store (--cluster, --object-store), where sandboxes can move", errdefs.ErrUnavailable)
	}
	name := r.PathValue("name")
	if name != s.cluster.Name() {
		n, err := s.node(r.Context(), name, "the node to drain")
		if err != nil {
			return err
		}
		s.cluster.Forward(w, r, n, func(err error) { s.writeError(w, r, err) })
		return nil
	}
	if err := s.cluster.SetNodeState(r.Context(), name, cluster.Draining); err != nil {
		return err
	}
	all, err := s.sandboxes.ListFiltered(r.Context(), "", false, nil)
	if err != nil {
		return err
	}
	ew := &eventWriter{w: w, rc: http.NewResponseController(w)}
	sum := client.DrainEvent{Done: true, Node: name}
	for _, sb := range all {
		if sb.Node != name || sb.State != sandbox.Running {
			continue
		}
		ev := s.drainOne(context.WithoutCancel(r.Context()), sb)
		if ev.Error != "" {
			sum.Failed++
		} else {
			sum.Moved++
		}
		if err := ew.writeValue(ev); err != nil {
			s.log.Warn("the drain's caller went away; the drain goes on", "err", err)
		}
	}
	return ew.writeValue(sum)
}

// drainOne pauses sb here and resumes it on the node placement picks.
func (s *Server) drainOne(ctx context.Context, sb *sandbox.Sandbox) client.DrainEvent {
	start := s.now()
	ev := client.DrainEvent{Sandbox: sb.ID, Name: sb.Name, From: sb.Node}
	fail := func(err error) client.DrainEvent {
		ev.Error = err.Error()
		s.log.Warn("draining a sandbox", "sandbox", sb.ID, "err", err)
		return ev
	}
	if _, err := s.sandboxes.Pause(ctx, sb.TeamID, sb.ID); err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := s.mover.WaitStored(sctx, sb.ID); err != nil {
		return fail(err)
	}
	to, err := s.cluster.Place(ctx, sb.Template)
	if err != nil {
		return fail(fmt.Errorf("%w (the sandbox stays paused here)", err))
	}
	var moved client.Sandbox
	if err := s.cluster.Call(ctx, to, sb.TeamID, http.MethodPost, "/v1/sandboxes/"+sb.ID+"/move", client.MoveRequest{Node: to.Name}, &moved); err != nil {
		return fail(fmt.Errorf("resuming on node %s: %w (the sandbox stays paused; resume it to try again)", to.Name, err))
	}
	if err := s.mover.Release(ctx, sb.ID); err != nil {
		s.log.Warn("removing a moved sandbox's files here", "sandbox", sb.ID, "err", err)
	}
	ev.To, ev.IP, ev.AwayMS = to.Name, moved.IP, s.now().Sub(start).Milliseconds()
	return ev
}
