package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/errdefs"
)

// status maps an error kind to its HTTP status. This is the only place
// where that happens. A quota on what is stored (disk) answers 403: it
// stays refused until something is deleted or the limit raised; one on
// what runs (sandboxes, vCPUs, memory, builds) answers 429, as every other
// limit hit: it frees itself as sandboxes pause or end and builds finish.
func status(err error) int {
	if q := quotaOf(err); q != nil && q.Stored {
		return http.StatusForbidden
	}
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errdefs.ErrAlreadyExists), errors.Is(err, errdefs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errdefs.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errdefs.ErrPermissionDenied):
		return http.StatusForbidden
	case errors.Is(err, errdefs.ErrResourceExhausted):
		return http.StatusTooManyRequests
	case errors.Is(err, errdefs.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// wireCode is the error's code in an error answer, e.g. "not_found".
func wireCode(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "unavailable"
	}
	return errdefs.Code(err)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	wire := wireCode(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="runtools"`)
	}
	var body client.ErrorBody
	body.Error.Code, body.Error.Message = wire, msg
	if q := quotaOf(err); q != nil {
		body.Error.Quota = &client.Quota{Name: q.Name, Unit: q.Unit, Used: q.Used, Limit: q.Limit, Requested: q.Requested, Hint: q.Hint}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// quotaOf returns the quota that refused err's operation, or nil.
func quotaOf(err error) *errdefs.QuotaError {
	var q *errdefs.QuotaError
	if errors.As(err, &q) {
		return q
	}
	return nil
}

func errNoRoute(r *http.Request) error {
	return fmt.Errorf("%w: no route %s %s; see api/openapi.yaml", errdefs.ErrNotFound, r.Method, r.URL.Path)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errdefs.ErrInvalidArgument}, args...)...)
}
