// Package report renders BENCHMARKS.md: the frame every run has (the
// machine, the targets, the method, the notes) around the parts the
// sections write, from text/template files, with the formatting helpers
// they all use.
package report

import (
	"embed"
	"text/template"
	"time"

	"github.com/runtools/runtools/bench/internal/host"
)

// Frame is what the report says besides the sections' parts.
type Frame struct {
	Date     time.Time
	Command  string   // the command line of the run, flags and all
	Partial  bool     // only some sections ran
	Sections []string // the sections that ran
	Elapsed  time.Duration
	Machine  host.Machine
	Platform string // the gVisor platform every system used
	Template string // the template every system ran
	Rootfs   string // its root filesystem
	Load     [2]string
	Bridge   string // of the runtools server
	Subnet   string // of the runtools server
	Podman   PodmanUse
	// TemplateCheck says whether the template's files are unchanged.
	TemplateCheck string
	Leaks         []string // what the bench left behind
}

// PodmanUse is whether podman was compared, and if it was not, why.
type PodmanUse struct {
	Compared bool   // a section asked for it
	Why      string // why it did not run, or was dropped
	Chains   int    // CNI NAT chains it left and the bench removed
}

//go:embed *.tmpl
var templates embed.FS

// frameTmpl are the frame's templates. Parsing them cannot fail once a
// test has rendered a report.
var frameTmpl = template.Must(parse(templates))

// frameView is the frame with the parts gathered.
type frameView struct {
	Frame
	Results, Methods []string
	Lead             string
	Targets          []Target
	Notes            []string
}

// Markdown renders the whole report: the frame around the parts, in the
// order given.
func Markdown(f Frame, parts []Part) (string, error) {
	f.Elapsed = f.Elapsed.Round(time.Second)
	v := frameView{Frame: f}
	for _, p := range parts {
		v.Results = append(v.Results, p.Results)
		v.Methods = append(v.Methods, p.Method)
		v.Targets = append(v.Targets, p.Targets...)
		v.Notes = append(v.Notes, p.Notes...)
		if v.Lead == "" {
			v.Lead = p.Lead
		}
	}
	r := renderer{T: frameTmpl}
	v.Notes = append(v.Notes, Lines(r.do("notes.tmpl", f))...)
	out := r.do("frame.tmpl", v)
	return out, r.Err
}
