package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// ProblemTypeBase prefixes every problem type URI; the slug names the problem.
const ProblemTypeBase = "https://docs.streamtime.io/problems/"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type      string                `json:"type"`
	Title     string                `json:"title"`
	Status    int                   `json:"status"`
	Detail    string                `json:"detail,omitempty"`
	Instance  string                `json:"instance,omitempty"`
	Errors    []provider.FieldError `json:"errors,omitempty"`
	RequestID string                `json:"request_id,omitempty"`

	retryAfter time.Duration
	allow      string
}

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: ProblemTypeBase + slug, Title: title, Status: status, Detail: detail}
}

// requestError is a problem found while reading the request, before the service is called.
type requestError struct{ p *Problem }

func (e *requestError) Error() string { return e.p.Title + ": " + e.p.Detail }

// invalidInput is the 400 answer naming each invalid field.
func invalidInput(fields ...provider.FieldError) *Problem {
	p := problem(http.StatusBadRequest, "invalid-input", "Invalid input", "The request has invalid fields.")
	p.Errors = fields
	return p
}

func badRequest(field, reason string) error {
	return &requestError{invalidInput(provider.FieldError{Field: field, Reason: reason})}
}

// problemFor is the one mapping from errors to HTTP answers. Only the words written here reach
// clients: an unexpected error becomes a 500 without its text.
func problemFor(err error) *Problem {
	var re *requestError
	var ve *provider.ValidationError
	var ue *provider.UnavailableError
	switch {
	case errors.As(err, &re):
		return re.p
	case errors.As(err, &ve):
		return invalidInput(ve.Fields...)
	case errors.Is(err, provider.ErrInvalidCursor):
		return invalidInput(provider.FieldError{Field: "cursor", Reason: "is not a cursor this list returned for this organization"})
	case errors.Is(err, auth.ErrUnauthenticated):
		return problem(http.StatusUnauthorized, "unauthenticated", "Unauthenticated", "A valid bearer token is required.")
	case errors.Is(err, auth.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "Forbidden", "The token does not allow this action on this organization.")
	case errors.Is(err, provider.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not found", "No fleet provider with this id exists in this organization.")
	case errors.Is(err, provider.ErrConflict):
		p := problem(http.StatusConflict, "identifier-taken", "Identifier already in use", "Another fleet provider in this organization has this identifier.")
		p.Errors = []provider.FieldError{{Field: "identifier", Reason: "is already used by another fleet provider in this organization"}}
		return p
	case errors.Is(err, provider.ErrStale):
		return problem(http.StatusConflict, "concurrent-modification", "Concurrent modification", "The fleet provider changed while this request ran; read it again and retry.")
	case errors.Is(err, fleet.ErrCredentialsChanged):
		return problem(http.StatusConflict, "credentials-changed", "Credentials changed", "The credentials were replaced while they were being validated; validate again.")
	case errors.Is(err, provider.ErrNotImplemented):
		return problem(http.StatusNotImplemented, "validation-not-available", "Validation not available", err.Error()+".")
	case errors.As(err, &ue), errors.Is(err, provider.ErrUnavailable):
		p := problem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", "A backing service is busy or unavailable; retry later.")
		p.retryAfter = time.Second
		if ue != nil && ue.RetryAfter > 0 {
			p.retryAfter = ue.RetryAfter
		}
		return p
	default:
		return problem(http.StatusInternalServerError, "internal", "Internal error", "The request failed unexpectedly; quote the request id when reporting it.")
	}
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	p.Instance = r.URL.Path
	p.RequestID = requestID(r.Context())
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="fleet-providers"`)
	}
	if p.allow != "" {
		h.Set("Allow", p.allow)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFoundRoute(r *http.Request) *Problem {
	return problem(http.StatusNotFound, "no-such-route", "Not found", fmt.Sprintf("No route for %s %s.", r.Method, r.URL.Path))
}
