package main

import (
	"context"
	"fmt"
	"time"
)

// warmExecers starts the long-lived raw and podman sandboxes and returns
// what the warm exec comparison runs against them and the runtools one.
func warmExecers(ctx context.Context, undo *undoStack, srv *server, id string, raw *rawRunsc, pm *podman) ([]execer, error) {
	agent, err := srv.agent(ctx, id)
	if err != nil {
		return nil, err
	}
	undo.push("close the agent client", func(context.Context) error { agent.Close(); return nil })
	box, _, err := raw.start(ctx, true)
	undo.push("remove the warm raw sandbox", func(ctx context.Context) error { return raw.remove(ctx, box) })
	if err != nil {
		return nil, fmt.Errorf("starting the warm raw sandbox: %w", err)
	}
	execers := []execer{
		{name: nameRuntools, once: timed(func(ctx context.Context) error { return srv.execTrue(ctx, id) })},
		{name: nameAgent, once: timed(func(ctx context.Context) error { return agentExecTrue(ctx, agent) })},
		{name: nameRawNet, once: timed(func(ctx context.Context) error { return raw.exec(ctx, box) })},
		{name: nameSpawn, once: func(ctx context.Context) (time.Duration, error) {
			d, err := agent.Spawn(ctx, 1)
			if err != nil {
				return 0, fmt.Errorf("spawn: %w", err)
			}
			if len(d) != 1 {
				return 0, fmt.Errorf("spawn: %d results for n=1", len(d))
			}
			return d[0], nil
		}},
	}
	if pm != nil {
		pid, err := pm.start(ctx)
		if err != nil {
			return nil, fmt.Errorf("starting the warm podman container: %w", err)
		}
		undo.push("remove the warm podman container", func(ctx context.Context) error { return pm.remove(ctx, pid) })
		execers = append(execers, execer{name: namePodman, optional: true,
			once: timed(func(ctx context.Context) error { return pm.exec(ctx, pid) })})
	}
	return execers, nil
}
