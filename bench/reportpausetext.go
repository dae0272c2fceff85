package main

import (
	"fmt"
	"time"
)

// pp50 is the p50 of phase in system's results of sec; 0 if there is none.
func pp50(sec cycleSection, system, phase string) time.Duration {
	if r := findCycle(sec.results, system); r != nil {
		return r.phases.by[phase].p50()
	}
	return 0
}

// pauseTargets are the goals for pause and resume.
func (r *report) pauseTargets() []target {
	sec := r.pause
	rtP, rtR := pp50(sec, nameRuntools, phPause), pp50(sec, nameRuntools, phResume)
	cp, rs, restore := pp50(sec, nameRawNet, phCheckpoint), pp50(sec, nameRawNet, phRawResume), pp50(sec, nameRawNet, phRestore)
	na := func(goal string) target {
		why := sec.skipped
		if why == "" {
			why = "a system was dropped; see the table"
		}
		return target{goal, "not measured: " + why, "N/A"}
	}
	var ts []target
	goal := "runtools pause p50 <= 1.2x raw `runsc checkpoint` p50"
	if rtP > 0 && cp > 0 {
		x := ratio(rtP, cp)
		ts = append(ts, target{goal, fmt.Sprintf("%s vs %s: %.2fx", ms(rtP), ms(cp), x), verdict(x <= 1.2)})
	} else {
		ts = append(ts, na(goal))
	}
	goal = "runtools resume p50 <= 1.2x raw `runsc restore` p50"
	if rtR > 0 && rs > 0 {
		x := ratio(rtR, rs)
		ts = append(ts, target{goal, fmt.Sprintf("%s vs %s (re-address eth0 + `runsc restore`, as the daemon must too): %.2fx; against `runsc restore` alone (%s): %.2fx",
			ms(rtR), ms(rs), x, ms(restore), ratio(rtR, restore)), verdict(x <= 1.2)})
	} else {
		ts = append(ts, na(goal))
	}
	goal = "runtools resume p50 < 500 ms"
	if rtR > 0 {
		ts = append(ts, target{goal, ms(rtR), verdict(rtR < 500*time.Millisecond)})
	} else {
		ts = append(ts, na(goal))
	}
	return ts
}
