package report

import "io/fs"

// Part is one section's share of the report. Every text is Markdown, and
// ends with a newline if it is not empty.
type Part struct {
	// Results go under "## Results", each starting with a blank line and
	// its "###" heading.
	Results string
	// Lead, if set, opens "## Method" in place of the description of the
	// runtools server alone; sections that share a lead give the same one,
	// and the first is used.
	Lead string
	// Method goes under "## Method", after the lead.
	Method string
	// Targets are the goals checked against the numbers.
	Targets []Target
	// Notes are observations, each one bullet under "## Notes".
	Notes []string
}

// Target is one goal checked against the numbers.
type Target struct {
	Goal, Measured, Verdict string
}

// Verdict says whether a goal was met: PASS or MISS.
func Verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// NotMeasured is a target that could not be checked, and why.
func NotMeasured(goal, why string) Target {
	return Target{goal, "not measured: " + why, "N/A"}
}

// Views are what a section's templates render from. Each text of the
// section's Part comes from the template named for it, given its view:
// Results from results.tmpl, Lead from lead.tmpl, Method from method.tmpl
// and Notes, one a line, from notes.tmpl. A text whose template the
// section does not have is left empty.
type Views struct {
	Results, Lead, Method, Notes any
	// Targets go into the Part as they are.
	Targets []Target
}

// Render renders a section's Part from its templates: every .tmpl file in
// fsys, in any folder, named by its file name, which may call Funcs.
func Render(fsys fs.FS, v Views) (Part, error) {
	t, err := parse(fsys)
	if err != nil {
		return Part{}, err
	}
	r := renderer{T: t}
	p := Part{
		Results: r.optional("results.tmpl", v.Results),
		Lead:    r.optional("lead.tmpl", v.Lead),
		Method:  r.optional("method.tmpl", v.Method),
		Notes:   Lines(r.optional("notes.tmpl", v.Notes)),
		Targets: v.Targets,
	}
	return p, r.Err
}
