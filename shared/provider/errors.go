package provider

import (
	"errors"
	"strings"
	"time"
)

// Domain errors. Backends map their provider's errors to these; the HTTP layer maps these to statuses.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the identifier is already taken within the organization.
	ErrConflict = errors.New("identifier already in use")
	// ErrStale: the provider changed since it was read (optimistic concurrency).
	ErrStale = errors.New("provider was modified concurrently")
	// ErrUnavailable: a dependency is throttling or down; the caller may retry.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrNotImplemented: no validator exists for the provider type yet.
	ErrNotImplemented = errors.New("not implemented")
	// ErrInvalidCursor: a list cursor that was not issued for this organization, or was altered.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// UnavailableError is ErrUnavailable with a hint of when to retry.
type UnavailableError struct {
	RetryAfter time.Duration
	Cause      error
}

func (e *UnavailableError) Error() string { return "temporarily unavailable" }
func (e *UnavailableError) Unwrap() []error {
	return []error{ErrUnavailable, e.Cause}
}

// FieldError names one invalid input field and why, in words safe to show a client.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError is a list of invalid fields. Reasons never quote secret values.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a field error.
func (e *ValidationError) Add(field, reason string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Reason: reason})
}

// Err returns e if it holds any field error, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}
