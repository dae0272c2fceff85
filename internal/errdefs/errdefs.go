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
