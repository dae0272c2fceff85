package server

import (
	"os"
	"path/filepath"
	"time"

	"github.com/runtools/runtools/bench/internal/stats"
)

// The names of a runtools pause and resume as the report shows them, the
// headline operations first, then the daemon's own figures from its log.
const (
	PhPause      = "pause (`client.Pause`)"
	PhResume     = "resume (`client.Resume`)"
	PhPauseTook  = "pause: (the daemon's own \"took\", from its log)"
	PhResumeTook = "resume: (the daemon's own \"took\", from its log)"
)

// Phase names of a runtools pause and snapshot, told from the times of
// the image files they write.
var (
	PauseImagePhases = [3]string{
		"pause: API, record, quiesce (5 ms), `runsc checkpoint`",
		"pause: seal the image (CRC-32C + fsync of every file, manifest, rename)",
		"pause: record paused, `runsc delete`, reply",
	}
	SnapshotImagePhases = [3]string{
		"snapshot: API, record, quiesce (5 ms), `runsc checkpoint --leave-running`",
		"snapshot: seal the image (CRC-32C + fsync of every file, manifest, rename)",
		"snapshot: record, reply",
	}
)

// manifestName is the file the daemon seals an image with
// (internal/sandbox/image.go); it is written after every file of the
// image is checksummed and fsynced.
const manifestName = "runtools-manifest.json"

// ImagePhases splits a call (t0 made, t1 returned) that wrote a sealed
// image into img at the modification times of the image's files: runsc's
// last write ends the checkpoint, the manifest ends the seal. File times
// come from the kernel's coarse clock (a few ms).
func ImagePhases(img string, t0, t1 time.Time, names [3]string) []stats.Phase {
	entries, err := os.ReadDir(img)
	if err != nil {
		return nil
	}
	var written, sealed time.Time
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		switch {
		case e.Name() == manifestName:
			sealed = fi.ModTime()
		case fi.ModTime().After(written):
			written = fi.ModTime()
		}
	}
	w0, w1 := t0.Round(0), t1.Round(0)
	if written.Before(w0) || sealed.Before(written) {
		return nil
	}
	return []stats.Phase{{Name: names[0], D: written.Sub(w0)}, {Name: names[1], D: sealed.Sub(written)}, {Name: names[2], D: w1.Sub(sealed)}}
}

// RestoreNames are the phase names of a call that restores a sandbox
// (op: resume, rollback or fork): until `runsc restore` starts, the
// restore, after it; Merged stands for the last two when the restore's end
// cannot be told.
type RestoreNames struct{ Prepare, Restore, Ready, Merged string }

// RestorePhaseNames names the phases of op.
func RestorePhaseNames(op string) RestoreNames {
	return RestoreNames{
		Prepare: op + ": API, image checks, records, network, until `runsc restore` starts",
		Restore: op + ": `runsc restore`, until runsc records the sandbox running",
		Ready:   op + ": the agent answers, records, reply",
		Merged:  op + ": `runsc restore`, the agent answers, records, reply",
	}
}

// RestorePhases splits a call that restored sandbox id (a resume, rollback
// or fork; op names it) at two points the daemon leaves on disk: it
// puts the sandbox's bundle in place just before `runsc restore`, and runsc
// writes the container's state file, saying running, when the restore is
// done. After that the daemon waits for the agent to answer.
func (s *Server) RestorePhases(op, id string, t0, t1 time.Time) []stats.Phase {
	names := RestorePhaseNames(op)
	bundle, err := os.Stat(s.BundleSpecPath(id))
	w0, w1 := t0.Round(0), t1.Round(0)
	if err != nil || Changed(bundle).Before(w0) {
		return nil
	}
	b := Changed(bundle)
	ph := []stats.Phase{{Name: names.Prepare, D: b.Sub(w0)}}
	states, _ := filepath.Glob(filepath.Join(s.DataDir, "runsc", "*_sandbox:"+id+".state"))
	if len(states) == 1 {
		if st, err := os.Stat(states[0]); err == nil && !st.ModTime().Before(b) {
			return append(ph, stats.Phase{Name: names.Restore, D: st.ModTime().Sub(b)}, stats.Phase{Name: names.Ready, D: w1.Sub(st.ModTime())})
		}
	}
	return append(ph, stats.Phase{Name: names.Merged, D: w1.Sub(b)})
}
