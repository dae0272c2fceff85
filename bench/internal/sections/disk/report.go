package disk

import (
	"cmp"
	"embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/bench/internal/report"
	"github.com/runtools/runtools/bench/internal/stats"
)

// Report renders the workload table, Stop and Boot, and the method.
func (s *Section) Report() (report.Part, error) {
	return report.Render(templates, report.Views{Results: s.view(), Method: s.methodView()})
}

// templates are the texts Report renders.
//
//go:embed *.tmpl
var templates embed.FS

// labels are the table's names of the workloads, by key.
var labels = map[string]string{
	keyNpm: "`npm install` of " + npmPackages + " (an empty cache: all downloaded)",
	keyGit: fmt.Sprintf("`git clone` of a local bare repository (%s files, %d commits)", thousands(gitFiles), gitCommits),
	keyPip: "`pip install --no-index` of pip and setuptools from their wheels, `--target` a new directory",
	keySmall: fmt.Sprintf("small files: %s files of %d KiB in %d directories (all four steps)",
		thousands(smallFiles), fileKiB, smallDirs),
	keyFsync: fmt.Sprintf("fsync: %s files of %d KiB, each written and fsynced", thousands(fsyncFiles), fileKiB),
}

// shortLabel is how the method names workload key.
func shortLabel(key string) string {
	if key == keySmall {
		return "small files"
	}
	return key
}

// phaseLabels are the table's names of the small-file steps.
var phaseLabels = map[string]string{
	"create": "↳ create (open, write 4 KiB, close)",
	"sync":   "↳ `sync` once, after the creates",
	"stat":   "↳ stat each file, listing each directory",
	"delete": "↳ delete the files and the directories",
}

// resultsView is the section with its rows laid out.
type resultsView struct {
	*Section
	Rows      []row
	Runs      []row    // every run's total, in order, by workload
	Missing   []string // why a cell is empty
	Lifecycle []lifeRow
}

// row is one line of the workload table: a workload's totals, or one of
// its phases.
type row struct {
	Label               string
	Cells               []string // by Systems
	VsEphemeral, VsHost string
}

// lifeRow is the lifecycle operations of one kind of sandbox: the median
// and the slowest of each, in LifePhases' order.
type lifeRow struct {
	Disk      string
	P50, Slow []string
}

func (s *Section) view() resultsView {
	v := resultsView{Section: s}
	for _, w := range s.Workloads {
		v.Rows = append(v.Rows, w.rows()...)
		v.Runs = append(v.Runs, w.runs())
		for _, sys := range Systems {
			if c := w.Cells[sys]; c != nil && c.NA != "" {
				v.Missing = append(v.Missing, fmt.Sprintf("*%s*, %s: %s", shortLabel(w.Key), sys, c.NA))
			}
		}
	}
	for _, sys := range []string{Durable, Ephemeral} {
		ps, ok := s.Lifecycle[sys]
		if !ok {
			continue
		}
		lr := lifeRow{Disk: sys}
		for _, ph := range LifePhases {
			d := ps.Get(ph)
			lr.P50, lr.Slow = append(lr.P50, Dur(d.P50())), append(lr.Slow, Dur(d.Max()))
		}
		v.Lifecycle = append(v.Lifecycle, lr)
	}
	return v
}

// rows are the workload's total row and, if it has several phases, a
// row for each.
func (w *Workload) rows() []row {
	rs := []row{w.row(labelOf(w.Key), func(c *Cell) stats.Samples { return c.Totals })}
	if names := w.phaseNames(); len(names) > 1 {
		for _, name := range names {
			label := phaseLabels[name]
			if label == "" {
				label = "↳ " + name
			}
			rs = append(rs, w.row(label, func(c *Cell) stats.Samples { return c.Phases.Get(name) }))
		}
	}
	return rs
}

// runs is the row of every run's total on each system, in run order.
func (w *Workload) runs() row {
	r := row{Label: shortLabel(w.Key)}
	for _, sys := range Systems {
		var ds []string
		if c := w.Cells[sys]; c != nil {
			for _, d := range c.Totals {
				ds = append(ds, Dur(d))
			}
		}
		r.Cells = append(r.Cells, cmp.Or(strings.Join(ds, ", "), "—"))
	}
	return r
}

// row is the medians of what of each system's cell, and the ratios.
func (w *Workload) row(label string, what func(*Cell) stats.Samples) row {
	r := row{Label: label}
	p50 := map[string]time.Duration{}
	for _, sys := range Systems {
		c := w.Cells[sys]
		switch {
		case c == nil:
			r.Cells = append(r.Cells, "—")
		case c.NA != "":
			r.Cells = append(r.Cells, naCell(c.NA))
		default:
			p50[sys] = what(c).P50()
			r.Cells = append(r.Cells, Dur(p50[sys]))
		}
	}
	r.VsEphemeral, r.VsHost = ratio(p50[Durable], p50[Ephemeral]), ratio(p50[Durable], p50[Host])
	return r
}

// phaseNames are the phases any system timed, in the order first seen.
func (w *Workload) phaseNames() []string {
	var names []string
	for _, sys := range Systems {
		if c := w.Cells[sys]; c != nil {
			for _, n := range c.Phases.Names {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	return names
}

func labelOf(key string) string {
	if l := labels[key]; l != "" {
		return l
	}
	return key
}

// naCell is what a cell shows for a workload not measured there.
func naCell(why string) string {
	if strings.HasPrefix(why, "N/A") {
		return "N/A"
	}
	return "failed"
}

// Dur formats a duration for the tables: seconds with two decimals from
// one second up, else milliseconds with one; "—" for 0.
func Dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return report.MS(d)
}

// ratio is a/b as "1.23x", or "—" if either is missing.
func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2fx", report.Ratio(a, b))
}

// thousands writes n with a space between thousands, as the report does.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

// methodView is what the method says.
type methodView struct {
	Config
	MemoryMB                                    int
	SandboxDir, NpmPackages                     string
	GitFiles, GitCommits, SmallFiles, SmallDirs string
	FileKiB                                     int
	FsyncFiles                                  string
}

func (s *Section) methodView() methodView {
	return methodView{Config: s.Config, MemoryMB: memoryMB, SandboxDir: sandboxDir, NpmPackages: npmPackages,
		GitFiles: thousands(gitFiles), GitCommits: fmt.Sprint(gitCommits), SmallFiles: thousands(smallFiles),
		SmallDirs: fmt.Sprint(smallDirs), FileKiB: fileKiB, FsyncFiles: thousands(fsyncFiles)}
}
