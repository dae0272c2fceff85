package client

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the client returns for an API answer wraps one
// of these, so callers can test with errors.Is(err, client.ErrNotFound).
var (
	ErrNotFound          = errors.New("not found")
	ErrAlreadyExists     = errors.New("already exists")
	ErrInvalidArgument   = errors.New("invalid argument")
	ErrConflict          = errors.New("conflict")
	ErrUnavailable       = errors.New("unavailable")
	ErrUnauthenticated   = errors.New("unauthenticated")
	ErrPermissionDenied  = errors.New("permission denied")
	ErrResourceExhausted = errors.New("resource exhausted")
)

var codes = map[string]error{
	"not_found":          ErrNotFound,
	"already_exists":     ErrAlreadyExists,
	"invalid_argument":   ErrInvalidArgument,
	"conflict":           ErrConflict,
	"unavailable":        ErrUnavailable,
	"unauthenticated":    ErrUnauthenticated,
	"permission_denied":  ErrPermissionDenied,
	"resource_exhausted": ErrResourceExhausted,
}

// APIError is an error answer from the server.
type APIError struct {
	Status  int    // HTTP status
	Code    string // wire code, e.g. "not_found"
	Message string
	// Quota says which of the team's limits refused the request, how much
	// of it is used and what to do; nil for other errors. The status is
	// 429 for a limit on what runs (sandboxes, vCPUs, memory, builds) and
	// 403 for one on what is stored (disk).
	Quota *Quota
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
	}
	return e.Message
}

// Is lets errors.Is match an APIError against the kind sentinels.
func (e *APIError) Is(target error) bool {
	kind, ok := codes[e.Code]
	return ok && kind == target
}
