package report_test

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
	"github.com/runtools/runtools/bench/internal/measure"
	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/report/reporttest"
	"github.com/runtools/runtools/bench/internal/stats"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{report.MS(1234567 * time.Nanosecond), "1.2 ms"},
		{report.MS2(1234567 * time.Nanosecond), "1.23 ms"},
		{report.MS(-3 * time.Millisecond), "-3.0 ms"},
		{report.Seconds(2600 * time.Millisecond), "3 s"},
		{report.Seconds1(2600 * time.Millisecond), "2.6 s"},
		{report.KiB(3 << 10), "3 KiB"},
		{report.MiB(3 << 19), "1.5 MiB"},
		{report.GiB(5 << 29), "2.5 GiB"},
		{report.OneLine("a |\n  b"), `a \| b`},
		{report.OneLine(strings.Repeat("x", 301)), strings.Repeat("x", 300) + "…"},
		{report.Verdict(true) + report.Verdict(false), "PASSMISS"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if report.Ratio(3, 0) != 0 || report.Ratio(3, 2) != 1.5 {
		t.Error("Ratio")
	}
	if got := report.Lines("\n a\n\n  \nb \n"); len(got) != 2 || got[0] != " a" || got[1] != "b " {
		t.Errorf("Lines = %q, want the two non-empty lines as they are", got)
	}
}

func TestSystemsTable(t *testing.T) {
	rs := []*measure.Result{
		{Name: measure.Runtools, Samples: stats.Samples{2 * time.Millisecond, time.Millisecond, 3 * time.Millisecond}},
		{Name: "raw", Dropped: "runsc failed:\nexit | 1"},
	}
	want := "| system | p50 | p99 | runs |\n|---|---:|---:|---:|\n" +
		"| runtools (Go SDK) | 2.0 ms | 3.0 ms | 3 |\n" +
		"| raw | — | — | dropped: runsc failed: exit \\| 1 |\n" +
		"| podman + runsc | — | — | did not run: no podman |\n"
	if got := report.SystemsTable(rs, "no podman"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	rs = append(rs, &measure.Result{Name: measure.Podman, Dropped: "podman run failed"})
	if got := report.SystemsTable(rs, "podman run failed"); strings.Contains(got, "did not run") {
		t.Errorf("podman has a row of its own; no other should say why it did not run:\n%s", got)
	}
}

func frame() report.Frame {
	return report.Frame{Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Command: "`go run ./bench -runs 2`", Elapsed: 61400 * time.Millisecond,
		Machine:  host.Machine{Kernel: "6.1", CPU: "EPYC", Cores: 4, MemoryGB: 15.62, Runsc: "runsc 1", Podman: "podman 4", Go: "go1.26", Commit: "abc"},
		Platform: "systrap", Template: "base", Rootfs: "/t/base/rootfs", Load: [2]string{"0.5", "1.5"},
		Bridge: "rtbench0", Subnet: "10.250.0.0/16", TemplateCheck: "unchanged"}
}

func TestMarkdownFrame(t *testing.T) {
	parts := []report.Part{
		{Results: "\n### One\n\nfirst\n", Method: "- one's method\n", Notes: []string{"one's note"},
			Targets: []report.Target{{Goal: "goal", Measured: "measured", Verdict: "PASS"}}},
		{Results: "\n### Two\n", Lead: "The shared lead.\n\n", Method: "- two's method\n"},
		{Results: "\n### Three\n", Lead: "Another lead.\n"},
	}
	got := markdown(t, frame(), parts)
	reporttest.Contains(t, got,
		"# runtools benchmarks\n\nMeasured 2026-01-02 03:04 UTC by `make bench` (`go run ./bench -runs 2`), commit `abc`; the bench took 1m1s.\n\n## Machine\n",
		"| CPU | EPYC, 4 cores |\n| memory | 15.6 GiB |\n",
		"| template | `base` (/t/base/rootfs) |\n| load average (1 min) | 0.5 at start, 1.5 at end |\n\n## Results\n\n### One\n\nfirst\n\n### Two\n\n### Three\n\n## Targets\n",
		"| goal | measured | **PASS** |\n\n## Method\n\nThe shared lead.\n\n- one's method\n- two's method\n- The bench removes everything",
		"## Notes\n\n- one's note\n- Template directory: unchanged.\n- Cleanup: nothing left behind",
	)
	if strings.Contains(got, "Another lead") || strings.Contains(got, "**runtools**: the bench starts") {
		t.Error("only the first lead should open the method, in place of the server's description")
	}
	if !strings.HasSuffix(got, "after cleanup).\n") {
		t.Errorf("the report should end with the last note and one newline: %q", got[len(got)-40:])
	}
}

func TestMarkdownPartialRun(t *testing.T) {
	f := frame()
	f.Partial, f.Sections = true, []string{"pause", "reuse"}
	f.Podman = report.PodmanUse{Compared: true, Why: "podman is not usable:\nnot found"}
	f.Leaks = []string{"interface rtbench1-3", "nft tables"}
	got := markdown(t, f, []report.Part{{Results: "\n### Pause\n"}})
	reporttest.Contains(t, got,
		"Measured 2026-01-02 03:04 UTC by `go run ./bench -runs 2`, commit `abc`; the bench took 1m1s.\n\n**A partial run**: only the sections pause, reuse; the others were left out with `-only`.\n\n## Machine",
		"## Method\n\n- **runtools**: the bench starts `bin/runtools server` with a temporary data directory, bridge `rtbench0` and subnet 10.250.0.0/16, and uses it through the Go SDK; the template is base (the root filesystem above), on gVisor's systrap platform.\n- The bench removes",
		"- podman: podman is not usable: not found\n",
		"- Cleanup: LEFT BEHIND: interface rtbench1-3; nft tables\n",
	)
	if strings.Contains(got, "## Targets") {
		t.Error("a run without targets should have no Targets heading")
	}
}

func TestMarkdownPodmanChains(t *testing.T) {
	f := frame()
	f.Podman = report.PodmanUse{Compared: true, Chains: 7}
	reporttest.Contains(t, markdown(t, f, nil), "The bench removed the 7 iptables chains left by its containers.\n")
}

// markdown renders the report, and stops the test if it could not.
func markdown(t *testing.T, f report.Frame, parts []report.Part) string {
	t.Helper()
	got, err := report.Markdown(f, parts)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRender(t *testing.T) {
	fsys := fstest.MapFS{
		"results.tmpl":   {Data: []byte("\n### {{.}}\n")},
		"sub/notes.tmpl": {Data: []byte("one: {{ms .}}\n\ntwo\n")},
	}
	targets := []report.Target{{Goal: "goal", Measured: "measured", Verdict: "PASS"}}
	got, err := report.Render(fsys, report.Views{Results: "Title", Notes: time.Millisecond, Method: "no template", Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	want := report.Part{Results: "\n### Title\n", Notes: []string{"one: 1.0 ms", "two"}, Targets: targets}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v (a text without a template is empty)", got, want)
	}
	fsys["method.tmpl"] = &fstest.MapFile{Data: []byte("{{.Missing}}")}
	if _, err := report.Render(fsys, report.Views{Method: 1}); err == nil {
		t.Error("a template that fails should fail the part")
	}
}
