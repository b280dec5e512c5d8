// Package auth verifies bearer tokens and decides what a caller may do. Authorize is the one org
// and scope check every request passes, whether the token was verified here (local server, Lambda
// without authorizer) or by the API Gateway Lambda authorizer.
package auth

import (
	"errors"
	"slices"
	"strings"
)

// Scopes a token may carry.
const (
	ScopeRead  = "fleet-providers:read"
	ScopeWrite = "fleet-providers:write"
)

var (
	// ErrUnauthenticated: no token, or a token that is malformed, expired, or not ours.
	ErrUnauthenticated = errors.New("missing or invalid bearer token")
	// ErrForbidden: a valid token that does not allow this organization or action.
	ErrForbidden = errors.New("token does not allow this request")
)

// Principal is who a verified token speaks for.
type Principal struct {
	Subject string   `json:"sub"`
	Org     string   `json:"org"`
	Scopes  []string `json:"scopes"`
}

// Has reports whether p holds scope.
func (p Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

// Authorize allows p to act on org's providers with scope. Another org is forbidden, not "not
// found": the caller knows which org its token is for.
func Authorize(p Principal, org, scope string) error {
	if p.Org == "" || p.Org != org || !p.Has(scope) {
		return ErrForbidden
	}
	return nil
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header value.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Keys of the context the API Gateway Lambda authorizer hands the handlers
// (requestContext.authorizer.lambda).
const (
	ContextOrg     = "org"
	ContextScopes  = "scopes"
	ContextSubject = "sub"
)

// AuthorizerContext is p as the authorizer's simple-response context.
func (p Principal) AuthorizerContext() map[string]any {
	return map[string]any{ContextOrg: p.Org, ContextScopes: strings.Join(p.Scopes, " "), ContextSubject: p.Subject}
}
