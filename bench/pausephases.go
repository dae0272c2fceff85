package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Phase names of a runtools pause and snapshot, told from the times of
// the image files they write.
var (
	pauseImagePhases = [3]string{
		"pause: API, record, quiesce (5 ms), `runsc checkpoint`",
		"pause: seal the image (CRC-32C + fsync of every file, manifest, rename)",
		"pause: record paused, `runsc delete`, reply",
	}
	snapshotImagePhases = [3]string{
		"snapshot: API, record, quiesce (5 ms), `runsc checkpoint --leave-running`",
		"snapshot: seal the image (CRC-32C + fsync of every file, manifest, rename)",
		"snapshot: record, reply",
	}
)

// manifestName is the file the daemon seals an image with
// (internal/sandbox/image.go); it is written after every file of the
// image is checksummed and fsynced.
const manifestName = "runtools-manifest.json"

// imagePhases splits a call (t0 made, t1 returned) that wrote a sealed
// image into img at the modification times of the image's files: runsc's
// last write ends the checkpoint, the manifest ends the seal. File times
// come from the kernel's coarse clock (a few ms).
func imagePhases(img string, t0, t1 time.Time, names [3]string) []phase {
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
	return []phase{{names[0], written.Sub(w0)}, {names[1], sealed.Sub(written)}, {names[2], w1.Sub(sealed)}}
}

// restoreNames are the phase names of a call that restores a sandbox
// (op: resume, rollback or fork): until `runsc restore` starts, the
// restore, after it; merged stands for the last two when the restore's end
// cannot be told.
type restoreNames struct{ prepare, restore, ready, merged string }

func restorePhaseNames(op string) restoreNames {
	return restoreNames{
		prepare: op + ": API, image checks, records, network, until `runsc restore` starts",
		restore: op + ": `runsc restore`, until runsc records the sandbox running",
		ready:   op + ": the agent answers, records, reply",
		merged:  op + ": `runsc restore`, the agent answers, records, reply",
	}
}

// restorePhases splits a call that restored sandbox id (a resume, rollback
// or fork; op names it) at two points the daemon leaves on disk: it
// puts the sandbox's bundle in place just before `runsc restore`, and runsc
// writes the container's state file, saying running, when the restore is
// done. After that the daemon waits for the agent to answer.
func (s *server) restorePhases(op, id string, t0, t1 time.Time) []phase {
	names := restorePhaseNames(op)
	bundle, err := os.Stat(s.bundleSpecPath(id))
	w0, w1 := t0.Round(0), t1.Round(0)
	if err != nil || changed(bundle).Before(w0) {
		return nil
	}
	b := changed(bundle)
	ph := []phase{{names.prepare, b.Sub(w0)}}
	states, _ := filepath.Glob(filepath.Join(s.dataDir, "runsc", "*_sandbox:"+id+".state"))
	if len(states) == 1 {
		if st, err := os.Stat(states[0]); err == nil && !st.ModTime().Before(b) {
			return append(ph, phase{names.restore, st.ModTime().Sub(b)}, phase{names.ready, w1.Sub(st.ModTime())})
		}
	}
	return append(ph, phase{names.merged, w1.Sub(b)})
}

// changed is a file's change time: when it was last written or renamed.
// The daemon writes a bundle's config.json to a temporary file, fsyncs it
// and renames it into place just before it runs runsc, so the change time,
// not the modification time, is that moment.
func changed(fi os.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Unix())
	}
	return fi.ModTime()
}

// sandboxDir is the server's directory of sandbox id.
func (s *server) sandboxDir(id string) string { return filepath.Join(s.dataDir, "sandboxes", id) }

// logLine is what a server log line about a pause, resume or snapshot says.
type logLine struct {
	took  time.Duration
	bytes int64 // image_bytes or bytes, if the line has it
}

var (
	tookAttr  = regexp.MustCompile(`\btook=(\S+)`)
	bytesAttr = regexp.MustCompile(`\b(?:image_)?bytes=(\d+)`)
)

// lastLogged finds the server's latest log line with message msg about
// sandbox id. The daemon logs it before it answers, so after a call has
// returned it is that call's.
func (s *server) lastLogged(msg, id string) (logLine, bool) {
	var out logLine
	l, ok := s.lastLogLine(msg, id)
	if !ok {
		return out, false
	}
	d, ok := durationAttr(l, tookAttr)
	if !ok {
		return out, false
	}
	out.took = d
	if m := bytesAttr.FindStringSubmatch(l); m != nil {
		out.bytes, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return out, true
}

// lastLogLine returns the server's latest log line with message msg about
// sandbox id.
func (s *server) lastLogLine(msg, id string) (string, bool) {
	lines := strings.Split(s.log.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.Contains(l, `msg="`+msg+`"`) && (strings.Contains(l, " sandbox="+id+" ") || strings.HasSuffix(l, " sandbox="+id)) {
			return l, true
		}
	}
	return "", false
}

// durationAttr parses the duration that attr (a regexp whose first group
// is the value) finds in a log line.
func durationAttr(line string, attr *regexp.Regexp) (time.Duration, bool) {
	m := attr.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}
