package apiserver

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
)

// processStdin writes the request's body (raw bytes, at most
// agentapi.MaxStdinBody) to the stdin of a background process started
// with stdin_open, and with ?eof=true closes its stdin afterwards. It
// answers 204 once the process has taken the bytes; a process whose stdin
// is not open to writes is a conflict (409) that says what to do.
func (s *Server) processStdin(w http.ResponseWriter, r *http.Request) error {
	pid, err := pidParam(r)
	if err != nil {
		return err
	}
	eof, err := boolParam(r, "eof")
	if err != nil {
		return err
	}
	// Read whole before anything is written, so that an input too large
	// is refused rather than cut.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, agentapi.MaxStdinBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return invalid("the input is larger than %d bytes: send it in parts, one request after the other", agentapi.MaxStdinBody)
		}
		return invalid("reading the input: %v", err)
	}
	return s.agentCall(r, func(ctx context.Context, ag *agentclient.Client) error {
		return noContent(w, ag.WriteStdin(ctx, pid, data, eof))
	})
}
