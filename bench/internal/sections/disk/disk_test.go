package disk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func TestParsePhases(t *testing.T) {
	ph, err := parsePhases("added 70 packages\n@phase create 1500000000\n\n@phase sync 2000000\nnoise @phase x 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(ph) != 2 || ph[0] != (stats.Phase{Name: "create", D: 1500 * time.Millisecond}) || ph[1].Name != "sync" || ph[1].D != 2*time.Millisecond {
		t.Errorf("phases: %+v", ph)
	}
	if total(ph) != 1502*time.Millisecond {
		t.Errorf("total: %s", total(ph))
	}
	for _, out := range []string{"", "done\n", "@phase total\n", "@phase total 12 ms\n", "@phase total -5\n", "@phase total 1.5\n"} {
		if _, err := parsePhases(out); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
}

func TestUnavailable(t *testing.T) {
	w := workload{offline: "the npm registry is unreachable"}
	if got := w.unavailable(errors.New("exit 1:\nENOTFOUND")); got != "N/A: the npm registry is unreachable: exit 1: ENOTFOUND" {
		t.Errorf("offline: %q", got)
	}
	if got := (workload{}).unavailable(errors.New("no python3")); got != "failed to prepare: no python3" {
		t.Errorf("plain: %q", got)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Dur(0), "—"}, {Dur(1234567 * time.Nanosecond), "1.2 ms"}, {Dur(2346 * time.Millisecond), "2.35 s"},
		{ratio(3*time.Second, 2*time.Second), "1.50x"}, {ratio(time.Second, 0), "—"}, {ratio(0, time.Second), "—"},
		{thousands(20000), "20 000"}, {thousands(1000), "1 000"}, {thousands(999), "999"}, {thousands(1234567), "1 234 567"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// cell is a cell of the phases in kv (name, ms, ...), one run.
func cell(kv ...any) *Cell {
	c := &Cell{}
	var ph []stats.Phase
	for i := 0; i < len(kv); i += 2 {
		ph = append(ph, stats.Phase{Name: kv[i].(string), D: time.Duration(kv[i+1].(int)) * time.Millisecond})
	}
	c.Phases.Add(ph)
	c.Totals = stats.Samples{total(ph)}
	return c
}

func TestReport(t *testing.T) {
	s := &Section{Config: Config{Runs: 1, Template: "base"}, Took: 90 * time.Second,
		Workloads: []*Workload{
			{Key: keyNpm, Cells: map[string]*Cell{Durable: cell("total", 12000), Ephemeral: cell("total", 10000),
				Host: {NA: "N/A: the npm registry is unreachable: exit 1"}}},
			{Key: keySmall, Cells: map[string]*Cell{Durable: cell("create", 3000, "sync", 500), Ephemeral: cell("create", 1000, "sync", 1),
				Host: {NA: "failed in run 1: boom"}}},
		},
		Lifecycle: map[string]stats.PhaseSet{Durable: {}},
		Setup:     Setup{HostFS: "ext4 on /dev/vda (rw)", DurableFS: "ext4 on /dev/loop0 (rw,discard)", Reflink: "no", Tools: "node v22"}}
	ps := s.Lifecycle[Durable]
	ps.Add([]stats.Phase{{Name: PhCreate, D: 450 * time.Millisecond}, {Name: PhPause, D: 200 * time.Millisecond},
		{Name: PhResume, D: 300 * time.Millisecond}, {Name: PhStop, D: 400 * time.Millisecond}, {Name: PhBoot, D: 800 * time.Millisecond}})
	s.Lifecycle[Durable] = ps
	p := reporttest.Render(t, s,
		"\n### Disk I/O: the durable disk against the ephemeral disk and the host\n\nThe section took 1m30s. Each cell is the median (nearest rank) of 1 runs,",
		"| `npm install` of express 4.21.2, lodash 4.17.21, typescript 5.7.3, react 18.3.1, react-dom 18.3.1 (an empty cache: all downloaded) | 12.00 s | 10.00 s | N/A | 1.20x | — |\n",
		"| small files: 10 000 files of 4 KiB in 100 directories (all four steps) | 3.50 s | 1.00 s | failed | 3.50x | — |\n",
		"| ↳ create (open, write 4 KiB, close) | 3.00 s | 1.00 s | failed | 3.00x | — |\n| ↳ `sync` once, after the creates | 500.0 ms | 1.0 ms | failed | 500.00x | — |\n",
		"| workload | durable | ephemeral | host |\n|---|---|---|---|\n| npm | 12.00 s | 10.00 s | — |\n| small files | 3.50 s | 1.00 s | — |\n\nNot measured:\n\n- *npm*, host: N/A: the npm registry is unreachable: exit 1\n- *small files*, host: failed in run 1: boom\n",
		"The three disks, with the template's node v22 on each:\n",
		"loop-mounted on the host: ext4 on /dev/loop0 (rw,discard). gVisor",
		"- **host**: a directory under the bench's temporary directory, ext4 on /dev/vda (rw); reflinks: no. The host",
		"| durable | 450.0 ms (450.0 ms) | 200.0 ms (200.0 ms) | 300.0 ms (300.0 ms) | 400.0 ms (400.0 ms) | 800.0 ms (800.0 ms) |\n",
	)
	if strings.Contains(p.Results, "\n| ephemeral | ") {
		t.Errorf("no ephemeral lifecycle was measured, so no row for it:\n%s", p.Results)
	}
	if !strings.HasPrefix(p.Method, "- **Disk I/O**: two sandboxes of template base (2048 MB of memory") || !strings.Contains(p.Method, "1 runs per sandbox.") {
		t.Errorf("method: %.200s", p.Method)
	}
}

func TestReportSkipped(t *testing.T) {
	s := &Section{Config: Config{Runs: 0}, Skipped: "left out with -disk-runs=0"}
	p := reporttest.Render(t, s, "\n### Disk I/O: the durable disk against the ephemeral disk and the host\n\nNot measured: left out with -disk-runs=0.\n")
	if p.Method != "" {
		t.Errorf("a section left out has no method: %q", p.Method)
	}
}
