package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// accessFlags are the proxy and SSH flags of the run, for the report's
// first line.
func (r *report) accessFlags() string {
	c := r.cfg
	return fmt.Sprintf("-proxy-seconds %d -proxy-conns %d -wake-runs %d -ssh-runs %d -login-runs %d -scp-runs %d -scp-mb %d",
		c.proxySeconds, c.proxyConns, c.wakeRuns, c.sshRuns, c.loginRuns, c.scpRuns, c.scpMB)
}

// proxyMarkdown writes the dev-server proxy section.
func (r *report) proxyMarkdown(b *strings.Builder) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	sec := r.proxy
	if sec.skipped != "" {
		w("\n### Dev-server proxy\n\nNot measured: %s.\n", oneLine(sec.skipped))
		return
	}
	w("\n### Dev-server proxy: a small answer from a Node.js server in a sandbox, direct and through the proxy (%d s per endpoint and load)\n\n", sec.seconds)
	w("The section took %s.\n\n", sec.took.Round(time.Second))
	w("| endpoint | connections | requests/s | p50 | p99 | requests | errors | runtools server CPU per request |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rs := range [][]loadResult{sec.load, sec.seq} {
		for _, l := range rs {
			w("| %s | %d | %.0f | %s | %s | %d | %d | %d µs |\n", l.name, l.conns, l.rps(), ms2(l.lat.p50()), ms2(l.lat.p99()),
				l.requests, l.errors, l.cpuPerRequest().Microseconds())
		}
	}
	for _, rs := range [][]loadResult{sec.load, sec.seq} {
		if len(rs) == 2 && rs[0].requests > 0 {
			d, p := rs[0], rs[1]
			w("\nWith %s the proxy keeps %.0f%% of the direct throughput and adds %s at p50, %s at p99.\n",
				connections(d.conns), 100*p.rps()/d.rps(), ms2(p.lat.p50()-d.lat.p50()), ms2(p.lat.p99()-d.lat.p99()))
		}
	}
	for _, rs := range [][]loadResult{sec.load, sec.seq} {
		for _, l := range rs {
			if l.errors > 0 {
				w("\n%s, %s: first error: %s\n", l.name, connections(l.conns), oneLine(l.firstErr))
			}
		}
	}
	if sec.wakeSkipped != "" {
		w("\nWake of a paused sandbox by a request: not measured: %s.\n", oneLine(sec.wakeSkipped))
		return
	}
	w("\nWake of a paused sandbox by a request, against `client.Resume` on the same sandbox (%d runs):\n\n", sec.wakeRuns)
	w("| operation | p50 | p99 | runs |\n|---|---:|---:|---:|\n")
	for _, name := range sec.wake.names {
		s := sec.wake.by[name]
		w("| %s | %s | %s | %d |\n", name, ms(s.p50()), ms(s.p99()), len(s))
	}
	if res := pp50(r.pause, nameRuntools, phResume); res > 0 {
		w("\nFor comparison, the pause section's `client.Resume` p50: %s.\n", ms(res))
	}
}

// sshMarkdown writes the SSH gateway section.
func (r *report) sshMarkdown(b *strings.Builder) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	sec := r.ssh
	if sec.skipped != "" {
		w("\n### SSH gateway\n\nNot measured: %s.\n", oneLine(sec.skipped))
		return
	}
	w("\n### SSH gateway, with the OpenSSH client\n\nThe section took %s.\n\n", sec.took.Round(time.Second))
	w("| operation | p50 | p99 | runs |\n|---|---:|---:|---:|\n")
	w("| `ssh ID@127.0.0.1 true` (a new connection each) | %s | %s | %d |\n", ms(sec.sshTrue.p50()), ms(sec.sshTrue.p99()), len(sec.sshTrue))
	if len(sec.login) > 0 {
		w("| login to prompt (`ssh -tt` on a terminal, until the shell's prompt) | %s | %s | %d |\n", ms(sec.login.p50()), ms(sec.login.p99()), len(sec.login))
	}
	if rt := find(r.exec, nameRuntools); rt != nil {
		w("| (for comparison: exec of `true` through the Go SDK, from the exec section) | %s | %s | %d |\n", ms(rt.s.p50()), ms(rt.s.p99()), len(rt.s))
	}
	t := sec.transfer
	if t.skipped != "" {
		w("\nFile transfers: not measured: %s.\n", oneLine(t.skipped))
		return
	}
	w("\nFile transfers of %d MiB of random data (%d rounds; MB is 10^6 bytes; MB/s from the median time):\n\n", t.mb, t.runs)
	w("| method | MB/s | median time | slowest | fastest |\n|---|---:|---:|---:|---:|\n")
	size := int64(t.mb) << 20
	for _, m := range t.methods {
		s := t.times[m]
		if len(s) == 0 {
			continue
		}
		w("| %s | %.0f | %s | %s | %s |\n", m, mbps(size, s.p50()), ms(s.p50()), ms(slices.Max(s)), ms(slices.Min(s)))
	}
}

// proxyTargets are the goals for the dev-server proxy.
func (r *report) proxyTargets() []target {
	sec := r.proxy
	goals := []string{
		fmt.Sprintf("the proxy keeps >= 80%% of the direct throughput (%d connections)", sec.conns),
		fmt.Sprintf("the proxy adds < 2 ms at p99 (%d connections, the same load)", sec.conns),
		"(extra) the proxy adds < 2 ms at p99 (1 connection, one request at a time)",
	}
	if sec.skipped != "" || len(sec.load) != 2 || len(sec.seq) != 2 {
		why := sec.skipped
		if why == "" {
			why = "no load results"
		}
		var ts []target
		for _, g := range goals {
			ts = append(ts, target{g, "not measured: " + oneLine(why), "N/A"})
		}
		return ts
	}
	d, p := sec.load[0], sec.load[1]
	x := p.rps() / d.rps()
	added := p.lat.p99() - d.lat.p99()
	sd, sp := sec.seq[0], sec.seq[1]
	sadded := sp.lat.p99() - sd.lat.p99()
	return []target{
		{goals[0], fmt.Sprintf("%.0f vs %.0f requests/s: %.0f%%", p.rps(), d.rps(), 100*x), verdict(x >= 0.8)},
		{goals[1], fmt.Sprintf("p99 %s vs %s: %s added", ms2(p.lat.p99()), ms2(d.lat.p99()), ms2(added)), verdict(added < 2*time.Millisecond)},
		{goals[2], fmt.Sprintf("p99 %s vs %s: %s added", ms2(sp.lat.p99()), ms2(sd.lat.p99()), ms2(sadded)), verdict(sadded < 2*time.Millisecond)},
	}
}

// ms2 formats a duration in milliseconds with two decimals, for the
// sub-millisecond latencies of the proxy.
func ms2(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// connections says "1 connection" or "N connections".
func connections(n int) string {
	if n == 1 {
		return "1 connection"
	}
	return fmt.Sprintf("%d connections", n)
}
