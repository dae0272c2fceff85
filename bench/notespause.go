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
		ns = append(ns, fmt.Sprintf("A raw full stop takes %s: after its checkpoint the sandbox goes on for %s before `runsc state` stops saying running (the same slow exit as after a SIGKILL, see the teardown note), then `runsc delete --force` takes %s. "+
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
		n += fmt.Sprintf("For comparison, the raw server's first HTTP GET after `runsc restore` had returned took %s; the runtools server's GET after Resume, whose sandbox had already answered the daemon, took %s.",
			ms(raw(phFirstGet)), ms(rt(phFirstGet)))
		ns = append(ns, n)
	}
	if big := r.big; big.skipped == "" {
		ns = append(ns, r.bigNote()...)
	}
	if sn := r.snap; sn.skipped == "" {
		s := func(ph string) time.Duration { return pp50(sn, nameRuntools, ph) }
		rb, fk := restorePhaseNames("rollback"), restorePhaseNames("fork")
		if s(phSnapshot) > 0 {
			ns = append(ns, fmt.Sprintf("Snapshots: a snapshot (%s) is a checkpoint that leaves the sandbox running (%s until runsc has written it, with the 20 ms quiesce) plus the seal (%s). "+
				"A rollback (%s) restores the snapshot in place of the running sandbox: %s until `runsc restore` starts (two CRC-32C passes over the snapshot, hard links and renames that make it the saved state, records, `runsc delete --force` of the running sandbox, the network), %s of restore, %s until the agent answers; "+
				"a fork (%s) restores the snapshot into a new sandbox with its own address (%s until the restore starts, %s of restore, %s until the agent answers), and its Node.js server answered at the fork's address.",
				ms(s(phSnapshot)), ms(s(snapshotImagePhases[0])), ms(s(snapshotImagePhases[1])),
				ms(s(phRollback)), ms(s(rb.prepare)), ms(s(rb.restore)), ms(s(rb.ready)),
				ms(s(phFork)), ms(s(fk.prepare)), ms(s(fk.restore)), ms(s(fk.ready))))
		}
	}
	ns = append(ns, fmt.Sprintf("Duration: the pause/resume and snapshot runs took %s of the bench, the large case %s.",
		r.pauseTook.Round(time.Second), r.bigTook.Round(time.Second)))
	return ns
}

// bigNote is what the large case adds.
func (r *report) bigNote() []string {
	big := r.big
	bp, bc := pp50(big, nameRuntools, phPause), pp50(big, nameRawNet, phCheckpoint)
	br, brr := pp50(big, nameRuntools, phResume), pp50(big, nameRawNet, phRawResume)
	if bp == 0 || bc == 0 || br == 0 || brr == 0 {
		return nil
	}
	ns := []string{fmt.Sprintf("Holding %d MiB more (images of %s for runtools and %s for raw): pause %s against `runsc checkpoint` %s (%.2fx), resume %s against %s (%.2fx). "+
		"Of the pause, %s pass until runsc has written the image, %s seal it (the CRC-32C pass and the fsync grow with the image) and %s record, delete and reply.",
		big.holdMB, mib(big.images[nameRuntools]), mib(big.images[nameRawNet]), ms(bp), ms(bc), ratio(bp, bc), ms(br), ms(brr), ratio(br, brr),
		ms(pp50(big, nameRuntools, pauseImagePhases[0])), ms(pp50(big, nameRuntools, pauseImagePhases[1])), ms(pp50(big, nameRuntools, pauseImagePhases[2])))}
	cp := pp50(big, nameRuntools, pauseImagePhases[0])
	seen := "not in this run's p50"
	if cp > 3*bc {
		seen = "in this run too"
	}
	ns = append(ns, fmt.Sprintf("**Odd: a runtools checkpoint of the large sandbox is at times several times slower than a raw one of the same size** (%s: %s until runsc has written the image, against %s for `runsc checkpoint`; over six runs while this bench was written, the large-case pause p50 was 438-529 ms in three and 179-188 ms in three). "+
		"Found by hand, with the server's --debug runsc logs of a bench run: the time is inside gVisor's own save, not the daemon's code: \"Overall save took\" 260-313 ms, its \"Async page saving\" writing the 151 MiB at 510-620 MB/s, against 60-80 ms and 2.1-3.7 GB/s for the same sandbox's other saves. "+
		"In that run the slow saves were the first save after the sandbox had run about 5 s since its last restore; saves 0.3-1 s after a restore were fast, and so were repeated `runsc checkpoint --leave-running` calls by hand on the same sandbox (one slow save at 259 ms, then 74-83 ms at 0.3 s and 5 s gaps). "+
		"Raw sandboxes (no agent, no daemon) of the same size stayed at 60-110 ms with 3 to 13 s since their restore (run with -settle 3s), and a plain 158 MiB file write on this disk takes 55-80 ms whatever the gap, so it is not the filesystem. "+
		"The cause is not found. In the round-robin order the gap between a runtools resume and its next pause alternates between about 0.3 s and, when the raw system's two cycles fall in between, about 5 s, so the samples are of both kinds.",
		seen, ms(cp), ms(bc)))
	return ns
}
