package interp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/errdefs"
)

// Limits on what one cell sends back.
const (
	// MaxOutput bounds a cell's stdout and stderr together; what comes
	// after is cut, with a marker.
	MaxOutput = 8 << 20
	// maxLine bounds one event, a large plot or table included.
	maxLine = 32 << 20
)

// maxTimeoutMS bounds a cell's timeout: a day.
const maxTimeoutMS = 24 * 60 * 60 * 1000

var contextID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckRequest refuses what the interpreter would: an unknown language or
// a malformed context ID.
func CheckRequest(req client.RunCodeRequest) error {
	switch req.Language {
	case "", client.LanguagePython, client.LanguageJavaScript:
	default:
		return fmt.Errorf("language must be python or javascript, got %q: %w", req.Language, errdefs.ErrInvalidArgument)
	}
	if req.Context != "" && !contextID.MatchString(req.Context) {
		return fmt.Errorf("context %q is not a context ID (see GET .../code/contexts): %w", req.Context, errdefs.ErrInvalidArgument)
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > maxTimeoutMS {
		return fmt.Errorf("timeout_ms must be between 0 (the default, 5 minutes) and %d (a day), got %d: %w",
			maxTimeoutMS, req.TimeoutMS, errdefs.ErrInvalidArgument)
	}
	return nil
}

// CheckContextID refuses a malformed context ID.
func CheckContextID(id string) error {
	if !contextID.MatchString(id) {
		return fmt.Errorf("%q is not a context ID (see GET .../code/contexts): %w", id, errdefs.ErrInvalidArgument)
	}
	return nil
}

// Run runs one cell and gives each of its events to emit, ending with the
// end event. An error before the first event is the call's; one after it
// (the interpreter died with its sandbox) is returned too, and the caller
// ends the stream with it.
func (in *Interp) Run(ctx context.Context, req client.RunCodeRequest, emit func(client.CodeEvent) error) error {
	if err := CheckRequest(req); err != nil {
		return err
	}
	resp, err := in.do(ctx, http.MethodPost, "/execute", req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return relay(resp.Body, emit)
}

// relay reads the interpreter's events, checks each, cuts output over
// MaxOutput, and passes them on.
func relay(r io.Reader, emit func(client.CodeEvent) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	output, cut := 0, false
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the interpreter stopped answering before the cell ended")
			}
			return fmt.Errorf("code interpreter: %w: %w", err, errdefs.ErrUnavailable)
		}
		var ev client.CodeEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("code interpreter: a malformed event: %w: %w", err, errdefs.ErrUnavailable)
		}
		switch ev.Type {
		case client.CodeEventStdout, client.CodeEventStderr:
			if cut {
				continue
			}
			if output+len(ev.Text) > MaxOutput {
				ev.Text = strings.ToValidUTF8(ev.Text[:MaxOutput-output], "") +
					fmt.Sprintf("\n[output cut: the cell wrote over %d MiB; write large output to a file instead]\n", MaxOutput>>20)
				cut = true
			}
			output += len(ev.Text)
		case client.CodeEventResult, client.CodeEventError, client.CodeEventNotice, client.CodeEventEnd:
		default:
			continue // not of the wire: dropped
		}
		if err := emit(ev); err != nil {
			return err
		}
		if ev.Type == client.CodeEventEnd {
			return nil
		}
	}
}

// readLine reads one line of at most maxLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, more, err := br.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, part...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("an event over %d MiB", maxLine>>20)
		}
		if !more {
			return line, nil
		}
	}
}
