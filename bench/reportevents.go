package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runtools/runtools/client"
)

// eventStates are the states a pause and a resume report, in order.
var eventStates = []string{client.StatePausing, client.StatePaused, client.StateResuming, client.StateRunning}

// eventsMarkdown writes the event stream section.
func (r *report) eventsMarkdown(b *strings.Builder) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	sec := r.events
	if sec.skipped != "" {
		w("\n### Event streams\n\nNot measured: %s.\n", oneLine(sec.skipped))
		return
	}
	w("\n### Event streams: from a status change to its delivery (runtools, %d rounds of pause and resume)\n\n", sec.runs)
	w("The section took %s. One idle sandbox, watched on four streams at once; each round's pause and resume make four status events (%s), %d per stream in all. "+
		"*Delivery* runs from the event's `at` (the daemon's clock when it recorded the change) to the moment the bench had the event decoded; "+
		"*after the call* runs from the return of `client.Pause` or `client.Resume` to the `paused` or `running` event (negative: the event came first).\n\n",
		sec.took.Round(time.Second), strings.Join(eventStates, ", "), 4*sec.runs)
	w("| stream | delivery p50 | delivery p99 | events | after the call p50 | after the call p99 |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range sec.streams {
		w("| %s | %s | %s | %d | %s | %s |\n", s.name, ms2(s.fromAt.p50()), ms2(s.fromAt.p99()), len(s.fromAt), ms2(s.fromCall.p50()), ms2(s.fromCall.p99()))
	}
	if len(sec.failures) > 0 {
		w("\n**%d of %d calls failed** (each was made once more, after the streams had delivered the state it left; its events are not counted): %s.\n",
			len(sec.failures), sec.calls, oneLine(strings.Join(sec.failures, "; ")))
	}
	w("\nDelivery p50 by the state the event reports:\n\n| stream | %s |\n|---|%s\n", strings.Join(eventStates, " | "), strings.Repeat("---:|", len(eventStates)))
	for _, s := range sec.streams {
		var cells []string
		for _, st := range eventStates {
			cells = append(cells, ms2(s.byState[st].p50()))
		}
		w("| %s | %s |\n", s.name, strings.Join(cells, " | "))
	}
	w("\nMetrics cadence, the sandbox running and idle (%d intervals per stream; the team's streams carry no metrics):\n\n", sec.runs)
	w("| stream | as received: p50 | p99 | shortest | longest | between the events' `at`: p50 | p99 | shortest | longest |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sec.streams {
		if !s.sandbox || len(s.metricsRecv) == 0 {
			continue
		}
		w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.name,
			ms(s.metricsRecv.p50()), ms(s.metricsRecv.p99()), ms(slices.Min(s.metricsRecv)), ms(slices.Max(s.metricsRecv)),
			ms(s.metricsAt.p50()), ms(s.metricsAt.p99()), ms(slices.Min(s.metricsAt)), ms(slices.Max(s.metricsAt)))
	}
}

// eventsTargets are the checks of the event streams.
func (r *report) eventsTargets() []target {
	sec := r.events
	goal := "(extra check) a sandbox's stream sends metrics every second (p50 interval as received within 1 s ± 50 ms)"
	if sec.skipped != "" {
		return []target{{goal, "not measured: " + oneLine(sec.skipped), "N/A"}}
	}
	var parts []string
	ok := true
	for _, s := range sec.streams {
		if !s.sandbox || len(s.metricsRecv) == 0 {
			continue
		}
		p := s.metricsRecv.p50()
		ok = ok && p >= 950*time.Millisecond && p <= 1050*time.Millisecond
		parts = append(parts, fmt.Sprintf("%s: %s", s.name, ms(p)))
	}
	if len(parts) == 0 {
		return []target{{goal, "no metrics intervals", "N/A"}}
	}
	return []target{{goal, strings.Join(parts, "; "), verdict(ok)}}
}

// eventsMethod describes how the event stream numbers were taken.
func (r *report) eventsMethod() string {
	c := r.cfg
	if c.eventRuns == 0 {
		return ""
	}
	return fmt.Sprintf(`- **Event streams** (runtools only): one sandbox (template %[1]s, idle timeout 0), watched by four watchers in the bench process at once: its own stream (`+"`GET /v1/sandboxes/ID/watch`"+`, with metrics) through the Go SDK's `+"`Client.Watch`"+` (Server-Sent Events) and over a WebSocket (`+"`github.com/coder/websocket`"+`, the API key in the Authorization header), and the team's stream (`+"`GET /v1/watch`"+`) the same two ways, opened with `+"`after=`"+` the seq of the sandbox stream's first event (the current state), so they miss nothing. Each event is timestamped as soon as it is decoded. *Metrics cadence*: first, with the sandbox running and idle, the intervals between %[2]d+1 consecutive metrics events of each sandbox stream (the daemon sends one per second, from the second tick on). *Delivery*: then 1 uncounted and %[2]d counted rounds of `+"`client.Pause`"+` and `+"`client.Resume`"+`, each after the settle gap and after every stream has delivered the previous call's final state (`+"`paused`, `running`"+`); a call that fails is reported and made once more, after every stream has delivered the state it left the sandbox in, and the failed call's events are not counted. A status event's `+"`at`"+` is the daemon's wall clock when it wrote the event into its SQLite database, inside the transaction, so delivery covers the commit, the wake-up of the stream's loop, its reading of the event and the sandbox back, and the trip to the client; the daemon and the bench share the machine's clock. The first event of a sandbox stream (the current state, timestamped when sent) is not counted. p99 is nearest-rank: with %[3]d samples it is the slowest one.
`, c.template, c.eventRuns, 4*c.eventRuns)
}
