package main

import (
	"fmt"
	"time"
)

// pauseNotes are the observations that go with the pause, resume and
// snapshot numbers.
func (r *report) pauseNotes() []string {
	var ns []string
	sec := r.pause
	rt := func(ph string) time.Duration { return pp50(sec, nameRuntools, ph) }
	raw := func(ph string) time.Duration { return pp50(sec, nameRawNet, ph) }
	if p, cp := rt(phPause), raw(phCheckpoint); p > 0 && cp > 0 {
		n := fmt.Sprintf("Pause: runtools takes %s (p50) against %s for `runsc checkpoint` alone, %s more. ", ms(p), ms(cp), ms(p-cp))
		if a := rt(pauseImagePhases[0]); a > 0 {
			n += fmt.Sprintf("Until runsc has written the image takes %s: 20 ms of it is the daemon's quiesce wait (it closes its connections to the agent and lets the sandbox see them closed; the bench waits as long for raw, untimed), the rest the API call, a SQLite write and the checkpoint itself, of a bigger image (%s against %s: the agent's process is in it). "+
				"Sealing the image (CRC-32C and fsync of every file) takes %s; recording the sandbox paused, `runsc delete` and the reply %s. ",
				ms(a), mib(sec.images[nameRuntools]), mib(sec.images[nameRawNet]), ms(rt(pauseImagePhases[1])), ms(rt(pauseImagePhases[2])))
		}
		if took := rt(phPauseTook); took > 0 {
			n += fmt.Sprintf("The daemon's own \"took\" is %s, so the HTTP API and the SDK add %s.", ms(took), ms(p-took))
		}
		ns = append(ns, n)
	}
	if fs := raw(phFullStop); fs > 0 {
		ns = append(ns, fmt.Sprintf("A raw full stop takes %s: after its checkpoint the sandbox goes on for %s before `runsc state` stops saying running (the same slow exit as after a SIGKILL, see teardown below), then `runsc delete --force` takes %s. "+
			"The daemon does not wait for that exit: its `runsc delete --force` right after the checkpoint ends the sandbox at once, and a runtools pause returns while the last runsc processes are still going away.",
			ms(fs), ms(raw(phWaitStopped)), ms(raw(phDelete))))
	}
	if res, rr := rt(phResume), raw(phRawResume); res > 0 && rr > 0 {
		n := fmt.Sprintf("Resume: runtools takes %s (p50) against %s for the raw re-address + `runsc restore` (of which `runsc restore` %s), %s more. ", ms(res), ms(rr), ms(raw(phRestore)), ms(res-rr))
		rn := restorePhaseNames("resume")
		if prep := rt(rn.prepare); prep > 0 {
			n += fmt.Sprintf("Until `runsc restore` starts takes %s (the API call, a CRC-32C pass over the image, a SQLite write, `runsc delete` of the container that is gone, and the network setup; raw: %s for its `ip` call). ", ms(prep), ms(raw(phReaddress)))
		}
		if rs := rt(rn.restore); rs > 0 {
			n += fmt.Sprintf("The restore itself takes %s (raw: %s for the whole command), then %s pass until the agent has answered and the daemon has recorded it and replied. ",
				ms(rs), ms(raw(phRestore)), ms(rt(rn.ready)))
		}
		n += fmt.Sprintf("A restored sandbox is slow to answer its first connection: the raw server's first HTTP GET after `runsc restore` returned took %s, which runtools pays inside Resume as it waits for its agent; its server's GET after Resume took %s.",
			ms(raw(phFirstGet)), ms(rt(phFirstGet)))
		ns = append(ns, n)
	}
	if big := r.big; big.skipped == "" {
		bp, bc := pp50(big, nameRuntools, phPause), pp50(big, nameRawNet, phCheckpoint)
		br, brr := pp50(big, nameRuntools, phResume), pp50(big, nameRawNet, phRawResume)
		if bp > 0 && bc > 0 && br > 0 && brr > 0 {
			ns = append(ns, fmt.Sprintf("Holding %d MiB more (images of %s for runtools and %s for raw): pause %s against `runsc checkpoint` %s (%.2fx; sealing the image now takes %s), resume %s against %s (%.2fx). This section took %s of the bench.",
				big.holdMB, mib(big.images[nameRuntools]), mib(big.images[nameRawNet]), ms(bp), ms(bc), ratio(bp, bc), ms(pp50(big, nameRuntools, pauseImagePhases[1])),
				ms(br), ms(brr), ratio(br, brr), r.bigTook.Round(time.Second)))
		}
	}
	if sn := r.snap; sn.skipped == "" {
		s := func(ph string) time.Duration { return pp50(sn, nameRuntools, ph) }
		rb, fk := restorePhaseNames("rollback"), restorePhaseNames("fork")
		if s(phSnapshot) > 0 {
			ns = append(ns, fmt.Sprintf("Snapshots: a snapshot (%s) is a checkpoint that leaves the sandbox running (%s until runsc has written it, with the 20 ms quiesce) plus the seal (%s). "+
				"A rollback (%s) stops the running sandbox (`runsc delete --force`) and restores the snapshot in its place: %s until `runsc restore` starts, %s of restore, %s until the agent answers; "+
				"a fork (%s) restores the snapshot into a new sandbox with its own address (%s until the restore starts, %s of restore, %s until the agent answers), and its Node.js server answered at the fork's address.",
				ms(s(phSnapshot)), ms(s(snapshotImagePhases[0])), ms(s(snapshotImagePhases[1])),
				ms(s(phRollback)), ms(s(rb.prepare)), ms(s(rb.restore)), ms(s(rb.ready)),
				ms(s(phFork)), ms(s(fk.prepare)), ms(s(fk.restore)), ms(s(fk.ready))))
		}
	}
	return ns
}
