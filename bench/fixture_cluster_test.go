package main

import (
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/sections/cluster"
	"github.com/runtools/runtools/bench/internal/stats"
)

// fillCluster gives the cluster section made-up numbers.
func fillCluster(s *cluster.Section) {
	s.Took = 4 * time.Minute
	s.One = cluster.Burst{Nodes: 1, Sandboxes: 30, Wall: 14 * time.Second, Create: ss(9000, 30), CreateExec: ss(9100, 30),
		Placed: map[string]int{"n1": 30}}
	s.Three = cluster.Burst{Nodes: 3, Sandboxes: 30, Wall: 12 * time.Second, Create: ss(7000, 29), CreateExec: ss(7100, 29),
		Failures: 1, FirstErr: "create: 503 | unavailable", Placed: map[string]int{"n1": 10, "n2": 10, "n3": 9}}
	s.Forward = []*measure.Result{{Name: "exec `true` through the owner's API", Samples: ss(36.1, 100)},
		{Name: "exec `true` through another node's API (forwarded to the owner)", Samples: ss(38.0, 100)}}
	s.Moves = phasesOf(5, "(before either: `client.Pause`)", 250.0, "(after the pause: storing the image in the object store, the daemon's \"took\")", 900.0,
		"cross-node resume: `client.Move` to another node, through that node's API (fetch the image, resume)", 1200.0,
		"cross-node: the first exec of `true` after the move", 40.0,
		"local resume: `client.Resume` on its own node, through its API", 500.0, "local: the first exec of `true` after the resume", 38.0)
	s.PauseImages, s.Stored = stats.Sizes{40 << 20, 41 << 20, 42 << 20}, stats.Sizes{30 << 20, 31 << 20, 32 << 20}
	s.Drain = cluster.Drain{Node: "n1", Sandboxes: 3, Total: 6 * time.Second, Away: ss(1900, 3), Moved: 3, To: map[string]int{"n2": 2, "n3": 1}}
}
