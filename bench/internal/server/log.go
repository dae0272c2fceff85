package server

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LogLine is what a server log line about a pause, resume or snapshot
// says.
type LogLine struct {
	Took  time.Duration
	Bytes int64 // image_bytes or bytes, if the line has it
}

var (
	tookAttr  = regexp.MustCompile(`\btook=(\S+)`)
	bytesAttr = regexp.MustCompile(`\b(?:image_)?bytes=(\d+)`)
	afterAttr = regexp.MustCompile(`\bafter=(\S+)`)
)

// LastLogged finds the server's latest log line with message msg about
// sandbox id. The daemon logs it before it answers, so after a call has
// returned it is that call's.
func (s *Server) LastLogged(msg, id string) (LogLine, bool) {
	var out LogLine
	l, ok := s.lastLogLine(msg, id)
	if !ok {
		return out, false
	}
	d, ok := durationAttr(l, tookAttr)
	if !ok {
		return out, false
	}
	out.Took = d
	if m := bytesAttr.FindStringSubmatch(l); m != nil {
		out.Bytes, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return out, true
}

// LoggedAfter returns the duration of the after= attribute of the
// server's latest log line with message msg about sandbox id, such as the
// desktop's "desktop ready".
func (s *Server) LoggedAfter(msg, id string) (time.Duration, bool) {
	l, ok := s.lastLogLine(msg, id)
	if !ok {
		return 0, false
	}
	return durationAttr(l, afterAttr)
}

// lastLogLine returns the server's latest log line with message msg about
// sandbox id.
func (s *Server) lastLogLine(msg, id string) (string, bool) {
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
