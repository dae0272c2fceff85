package report

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"

	"github.com/runtools/runtools/bench/internal/measure"
)

// Funcs are the functions every report template may call.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"ms": MS, "ms2": MS2, "seconds": Seconds, "seconds1": Seconds1,
		"kib": KiB, "mib": MiB, "gib": GiB,
		"ratio": Ratio, "oneLine": OneLine, "join": strings.Join, "line": line,
		"sub":          func(a, b time.Duration) time.Duration { return a - b },
		"round":        func(d time.Duration) time.Duration { return d.Round(time.Second) },
		"systemsTable": SystemsTable,
	}
}

// parse parses every .tmpl file in fsys, in any folder, with Funcs; each
// is named by its file name.
func parse(fsys fs.FS) (*template.Template, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tmpl") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return template.New("").Funcs(Funcs()).ParseFS(fsys, files...)
}

// renderer executes templates into strings, keeping the first error, so
// that a part's texts can be rendered one after another and checked once.
type renderer struct {
	T   *template.Template
	Err error
}

// do executes the template named name with data; "" after an error.
func (r *renderer) do(name string, data any) string {
	if r.Err != nil {
		return ""
	}
	var b bytes.Buffer
	if r.Err = r.T.ExecuteTemplate(&b, name, data); r.Err != nil {
		return ""
	}
	return b.String()
}

// optional is do, or "" if there is no template named name.
func (r *renderer) optional(name string, data any) string {
	if r.T.Lookup(name) == nil {
		return ""
	}
	return r.do(name, data)
}

// Lines splits a rendered list into its non-empty lines: a notes template
// writes one note a line.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// line puts s on one line, for a note that holds an error message.
func line(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// SystemsTable is the table of systems compared on one measure: p50, p99
// and runs, or why a system was dropped. If podmanWhy is set and podman
// has no result, a row says why it did not run.
func SystemsTable(rs []*measure.Result, podmanWhy string) string {
	var b strings.Builder
	b.WriteString("| system | p50 | p99 | runs |\n|---|---:|---:|---:|\n")
	for _, res := range rs {
		if res.Dropped != "" {
			fmt.Fprintf(&b, "| %s | — | — | dropped: %s |\n", res.Name, OneLine(res.Dropped))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", res.Name, MS(res.Samples.P50()), MS(res.Samples.P99()), len(res.Samples))
	}
	if podmanWhy != "" && !measure.Has(rs, measure.Podman) {
		fmt.Fprintf(&b, "| %s | — | — | did not run: %s |\n", measure.Podman, OneLine(podmanWhy))
	}
	return b.String()
}
