package report

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
