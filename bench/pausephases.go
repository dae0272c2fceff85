package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Phase names of a runtools pause and resume, told from wall-clock points.
const (
	phPauseCheckpoint = "pause: API, record, quiesce (20 ms), `runsc checkpoint`"
	phPauseSeal       = "pause: seal the image (CRC-32C + fsync of every file, manifest, rename)"
	phPauseStop       = "pause: record paused, `runsc delete`, reply"
	phResumePrepare   = "resume: API, verify the image (CRC-32C), record, `runsc delete`, network"
	phResumeRestore   = "resume: `runsc restore`, agent ready, record, remove the image, reply"
)

// manifestName is the file the daemon seals a pause image with
// (internal/sandbox/image.go); it is written after every file of the
// image is checksummed and fsynced.
const manifestName = "runtools-manifest.json"

// pausePhases splits a runtools pause (t0 call, t1 returned) at the
// modification times of its image in img: runsc's last write ends the
// checkpoint, the manifest ends the seal. File times come from the
// kernel's coarse clock (a few ms).
func pausePhases(img string, t0, t1 time.Time) []phase {
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
	if written.IsZero() || sealed.IsZero() {
		return nil
	}
	w0, w1 := t0.Round(0), t1.Round(0)
	return []phase{{phPauseCheckpoint, written.Sub(w0)}, {phPauseSeal, sealed.Sub(written)}, {phPauseStop, w1.Sub(sealed)}}
}

// resumePhases splits a runtools resume at the modification time of the
// sandbox's bundle, which the daemon writes just before `runsc restore`.
func resumePhases(bundleSpec string, t0, t1 time.Time) []phase {
	fi, err := os.Stat(bundleSpec)
	if err != nil || fi.ModTime().Before(t0.Round(0)) {
		return nil
	}
	return []phase{{phResumePrepare, fi.ModTime().Sub(t0.Round(0))}, {phResumeRestore, t1.Round(0).Sub(fi.ModTime())}}
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
	lines := strings.Split(s.log.String(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if !strings.Contains(l, `msg="`+msg+`"`) || !strings.Contains(l, " sandbox="+id+" ") && !strings.HasSuffix(l, " sandbox="+id) {
			continue
		}
		var out logLine
		m := tookAttr.FindStringSubmatch(l)
		if m == nil {
			return out, false
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			return out, false
		}
		out.took = d
		if m := bytesAttr.FindStringSubmatch(l); m != nil {
			out.bytes, _ = strconv.ParseInt(m[1], 10, 64)
		}
		return out, true
	}
	return logLine{}, false
}
