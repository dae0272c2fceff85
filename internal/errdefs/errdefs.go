// Package errdefs defines the few kinds of error the daemon distinguishes.
// Every layer wraps one of these with %w and context; the API server maps
// them to HTTP status codes in exactly one place.
package errdefs

import "errors"

var (
	// ErrNotFound: the thing named does not exist (or is not visible to the caller).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create collided with an existing name.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument: the request is malformed or names an impossible value.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrConflict: the operation is not possible in the current state.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: a dependency is not ready or failed; retrying later may work.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnauthenticated: no or wrong credentials.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrPermissionDenied: credentials are valid but do not allow the operation.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrResourceExhausted: a quota or limit was hit.
	ErrResourceExhausted = errors.New("resource exhausted")
)

// Code returns the stable wire name of the kind err wraps, or "internal".
func Code(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.code
		}
	}
	return "internal"
}

// FromCode returns the sentinel for a wire code, or nil for unknown codes.
func FromCode(code string) error {
	for _, k := range kinds {
		if k.code == code {
			return k.err
		}
	}
	return nil
}

var kinds = []struct {
	err  error
	code string
}{
	{ErrNotFound, "not_found"},
	{ErrAlreadyExists, "already_exists"},
	{ErrInvalidArgument, "invalid_argument"},
	{ErrConflict, "conflict"},
	{ErrUnavailable, "unavailable"},
	{ErrUnauthenticated, "unauthenticated"},
	{ErrPermissionDenied, "permission_denied"},
	{ErrResourceExhausted, "resource_exhausted"},
}

// QuotaError says that a team's quota refused an operation: which limit,
// how much of it is in use, how much more the operation needed, and what
// to do. It is an ErrResourceExhausted. Stored says the limit counts what
// is kept (disk), which stays until something is deleted, rather than
// what runs now (sandboxes, their vCPUs and memory, builds), which frees
// itself as sandboxes pause or end and builds finish: the API answers the
// first 403 and the second 429.
type QuotaError struct {
	Name      string // the limit: sandboxes, vcpus, memory_mb, disk_bytes or builds
	Unit      string // of Used, Requested and Limit: sandboxes, vcpus, MB, bytes or builds
	Used      int64
	Requested int64 // what the operation needed on top of Used; 0 if unknown
	Limit     int64
	Stored    bool
	Message   string // the whole sentence, hint included
	Hint      string // what to do
}

func (e *QuotaError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrResourceExhausted) hold.
func (e *QuotaError) Unwrap() error { return ErrResourceExhausted }
