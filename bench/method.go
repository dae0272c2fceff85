package main

import (
	"fmt"
	"strings"
	"time"
)

// method describes how the numbers were taken.
func (r *report) method() string {
	c := r.cfg
	return fmt.Sprintf(`All systems run the same root filesystem (the %[1]s template the daemon resolved), on the same gVisor platform (%[2]s), with the same runsc binary, one after another; the load average below shows what else ran on the machine.

- **runtools**: the bench starts `+"`bin/runtools server`"+` with a temporary data directory, bridge `+"`%[3]s`"+` and subnet %[4]s. A trial is `+"`client.Create`"+` (template %[1]s, server defaults: 2 vCPUs, 1024 MB, 2048 MB disk) then `+"`Exec([\"true\"])`"+` through the Go SDK, timed from before Create until Exec has returned; `+"`Destroy`"+` follows, not timed.
- **raw runsc**: the OCI spec the daemon wrote for its own sandbox, minus the agent (its bind mount and its environment), with process `+"`sleep infinity`"+` and a cgroup under the same parent; the daemon's runsc flags: `+"`runsc --root R --platform=%[2]s --network=sandbox --net-raw=false --host-uds=none --overlay2=root:dir=D,size=2048m run --detach --bundle B ID`"+`, then `+"`runsc exec ID true`"+`, then (not timed) `+"`runsc delete --force`"+`. Two variants: *+ netns* makes the sandbox's network the way the daemon does, inside the timed part, with iproute2 (`+"`ip netns add`"+`; one `+"`ip -batch`"+` for the veth pair, its bridge port on `+"`%[5]s`"+`, isolated, up; one `+"`ip -n NS -batch`"+` for address, lo, eth0 and default route); *--network=none* has no network at all and shows runsc's own floor.
- **podman + runsc**: `+"`podman --runtime RUNSC --runtime-flag platform=%[2]s run -d --ulimit nofile=20000:20000 --cpus 2 --memory 1024m --pids-limit 8192 --rootfs ROOTFS:O sleep infinity`"+`, then `+"`podman exec ID true`"+`, then (not timed) `+"`podman rm -f`"+`. `+"`:O`"+` mounts a host overlay over the template, so nothing is written into it. Podman uses its default CNI bridge network.
- **Warm exec**: one long-lived sandbox per system; each trial runs `+"`true`"+` once. Besides the three systems: *agent /exec direct* is the daemon's own agent client calling the runtools sandbox's agent (address and secret read from the server's SQLite database), without the API server in between; *in-sandbox spawn* is the agent's `+"`GET /debug/spawn?n=1`"+`: the fork+exec+wait of `+"`true`"+` measured inside the sandbox.
- **Order**: round-robin. Each round runs every system once, starting with a different one each round, so background noise and cache effects fall on all alike; each sandbox is removed before the next trial, and every trial starts after the same idle gap (the -settle flag, 50 ms) so that what one system leaves running for a moment (podman's conmon, an exiting runsc process) does not land on the next one's measurement. %[6]d warm-up round(s) of create and %[7]d of exec are not counted.
- **Statistics**: p50 and p99 are nearest-rank percentiles of %[8]d (create) and %[9]d (exec) samples; with 20 samples p99 is the slowest run.
- **runtools phases** come from wall-clock points, not timed separately: the sandbox's `+"`created_at`"+` (set before it is recorded) and `+"`started_at`"+` (set once the agent answered), the change time of its bundle's config.json (renamed into place just before `+"`runsc run`"+`; file times have the kernel's coarse clock, a few ms), the agent's start (the bench asks its health route for its uptime after the trial) and its "agent serving" console log line (millisecond resolution). Each phase's p50 is of its own samples, so they need not add up to the total.
- **Address reuse workaround**: after each runtools Destroy (untimed) the bench deletes the host's neighbor (ARP) entry for the sandbox's address on the server's bridge; see the notes for why. The extra check at the end measures what happens without it: a sandbox is created, runs `+"`true`"+` and is destroyed, and the next one, given the same address, gets 3 s to come up before the bench steps in.
`, c.template, r.platform, c.bridge, c.subnet, c.rawBridge, 1, 5, c.runs, c.execRuns)
}

// notes are the observations that go with the numbers.
func (r *report) notes() []string {
	var ns []string
	p50 := func(rs []*result, name string) time.Duration {
		if x := find(rs, name); x != nil {
			return x.s.p50()
		}
		return 0
	}
	phase := func(name, ph string) time.Duration {
		if x := find(r.create, name); x != nil {
			return x.phases.by[ph].p50()
		}
		return 0
	}
	if rt, raw := p50(r.create, nameRuntools), p50(r.create, nameRawNet); rt > 0 && raw > 0 {
		n := fmt.Sprintf("Create: runtools takes %s (p50) against %s for raw runsc with a netns, %s more. "+
			"Its network setup, with netlink inside the daemon, is part of \"record + network setup\" (%s, which also holds two SQLite writes); "+
			"the raw variant's three `ip` processes take %s. ",
			ms(rt), ms(raw), ms(rt-raw), ms(phase(nameRuntools, "record + network setup")), ms(phase(nameRawNet, "netns + veth (3 ip calls)")))
		if boot := phase(nameRuntools, "runsc run until the agent starts"); boot > 0 {
			n += fmt.Sprintf("From `runsc run` until the agent process starts takes %s (raw `runsc run` returns after %s); "+
				"the agent then needs %s until it serves HTTP, and the daemon's readiness polling sees it %s later. ",
				ms(boot), ms(phase(nameRawNet, "bundle + runsc run")), ms(phase(nameRuntools, "agent start until serving")),
				ms(phase(nameRuntools, "agent serving until seen ready")))
		} else {
			n += fmt.Sprintf("`runsc run` until the agent answers takes %s against %s for `runsc run` alone. ",
				ms(phase(nameRuntools, "runsc run + agent ready")), ms(phase(nameRawNet, "bundle + runsc run")))
		}
		n += fmt.Sprintf("The first exec (%s) is faster than a first `runsc exec` (%s), which pays for starting the runsc binary.",
			ms(phase(nameRuntools, "first exec")), ms(phase(nameRawNet, "first exec (runsc exec)")))
		ns = append(ns, n)
	}
	if rt, ag, sp := p50(r.exec, nameRuntools), p50(r.exec, nameAgent), p50(r.exec, nameSpawn); rt > 0 && ag > 0 && sp > 0 {
		ns = append(ns, fmt.Sprintf("Exec: of the runtools round trip (%s p50), spawning `true` inside gVisor is %s; "+
			"the agent's HTTP exec stream adds %s on top (agent direct: %s) and the API server's hop %s.",
			ms(rt), ms(sp), ms(ag-sp), ms(ag), ms(rt-ag)))
	}
	if r.reuse.verdict == "MISS" {
		ns = append(ns, "**Daemon bug: a sandbox that reuses a freed address is unreachable for 20-30 s.** "+
			"The daemon's network teardown leaves the host's neighbor (ARP) entry for the sandbox's address on the bridge; "+
			"the next sandbox given that address has a new random MAC on its eth0, which gVisor's netstack takes over without announcing it (no gratuitous ARP). "+
			"While any other sandbox keeps the bridge up, the host keeps sending to the old MAC until the entry goes stale and its probes fail, "+
			"so the new agent does not answer, Create waits (it failed outright at the 30 s ready timeout in a manual try), and the public proxy would fail the same way. "+
			"Found by this bench: a first version without the workaround below measured a runtools create-to-first-exec p50 of 20.4 s (2 runs). "+
			"Fix in internal/network: delete the neighbor entry in Teardown (netlink.NeighDel), or give eth0 a MAC derived from its address. "+
			"Until then the bench deletes the entry after each Destroy, outside the timed part. Check result: "+r.reuse.detail+".")
	}
	if rt, raw, pod := find(r.create, nameRuntools), find(r.create, nameRawNone), find(r.create, namePodman); rt != nil && raw != nil && len(rt.teardown) > 0 && len(raw.teardown) > 0 {
		n := fmt.Sprintf("Teardown is in no total and no target, but it is slow: a runtools Destroy takes %s (p50) and `runsc delete --force` %s", ms(rt.teardown.p50()), ms(raw.teardown.p50()))
		if pod != nil && len(pod.teardown) > 0 {
			n += fmt.Sprintf(", against %s for `podman rm -f`", ms(pod.teardown.p50()))
		}
		ns = append(ns, n+". By hand, almost all of runsc's time was the container stopping after SIGKILL (`runsc kill ID KILL` until `runsc state` no longer says running: 1.84 s; `runsc delete` after it: 25 ms), which also makes this bench slow.")
	}
	if r.cfg.only.has(secPause) {
		ns = append(ns, r.pauseNotes()...)
	}
	switch {
	case !r.cfg.only.needsPodman():
	case r.podmanWhy != "":
		ns = append(ns, "podman: "+r.podmanWhy)
	default:
		ns = append(ns, fmt.Sprintf("podman + runsc leaves NAT rules behind on `podman rm`: the CNI bridge plugin finds what to delete from the addresses on the container's eth0, and runsc's netstack has taken those addresses. The bench removed the %d iptables chains left by its containers.", r.cniChains))
	}
	ns = append(ns, "Template directory: "+r.templateCheck+".")
	if len(r.leaks) == 0 {
		ns = append(ns, "Cleanup: nothing left behind (checked namespaces, interfaces, nft tables, podman containers and their NAT chains after cleanup).")
	} else {
		ns = append(ns, "Cleanup: LEFT BEHIND: "+strings.Join(r.leaks, "; "))
	}
	return ns
}
