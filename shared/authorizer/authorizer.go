// Package authorizer is the API Gateway HTTP API Lambda authorizer (REQUEST type, payload format
// 2.0, simple responses). It verifies the bearer token with the same jwtauth.Verifier as the local
// server and hands the principal to the handlers in the authorizer context.
//
// It decides only who the token speaks for. Which org and scope a route needs is checked by the
// handlers: API Gateway caches this answer per token and reuses it on every route. A token that
// does not verify is passed on with no principal rather than denied here, so the handlers answer
// it as the contract says (401 problem+json with WWW-Authenticate); a deny would make API Gateway
// answer 403 {"message":"Forbidden"} itself. A request without the header never reaches the
// authorizer: API Gateway answers it 401.
package authorizer

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/config"
)

// Request and Response are the event and answer of an HTTP API REQUEST authorizer, payload 2.0.
type (
	Request  = events.APIGatewayV2CustomAuthorizerV2Request
	Response = events.APIGatewayV2CustomAuthorizerSimpleResponse
)

// Authorizer answers authorizer events.
type Authorizer struct {
	verifier *jwtauth.Verifier
	log      *slog.Logger
}

// New returns an authorizer trusting the tokens cfg describes (AUTH_ISSUER, AUTH_AUDIENCE,
// AUTH_JWKS): they are required here whatever AUTH_MODE says.
func New(cfg config.Config, log *slog.Logger) (*Authorizer, error) {
	v, err := jwtauth.NewVerifier(jwtauth.VerifierConfig{Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience, JWKS: cfg.AuthJWKS, JWKSURL: cfg.AuthJWKSURL})
	if err != nil {
		return nil, err
	}
	return &Authorizer{verifier: v, log: log}, nil
}

// Handle is the Lambda handler. It never returns an error: an error would be a 500, and its text
// could end up in logs with the token.
func (a *Authorizer) Handle(ctx context.Context, req Request) (Response, error) {
	token, ok := auth.BearerToken(authorization(req))
	if !ok {
		a.reject(ctx, req, "no bearer token")
		return Response{IsAuthorized: true}, nil
	}
	p, err := a.verifier.Verify(token)
	if err != nil {
		a.reject(ctx, req, "token rejected")
		return Response{IsAuthorized: true}, nil
	}
	return Response{IsAuthorized: true, Context: p.AuthorizerContext()}, nil
}

// authorization is the Authorization header value: the identity source API Gateway was told to
// use (and caches on), or the header itself when the event has none.
func authorization(req Request) string {
	if len(req.IdentitySource) > 0 && req.IdentitySource[0] != "" {
		return req.IdentitySource[0]
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Authorization") {
			return v
		}
	}
	return ""
}

// reject logs why a token was not accepted, with what API Gateway logs too, and nothing of the token.
func (a *Authorizer) reject(ctx context.Context, req Request, reason string) {
	a.log.InfoContext(ctx, "token not accepted", "reason", reason,
		"request_id", req.RequestContext.RequestID, "route", req.RouteKey, "source_ip", req.RequestContext.HTTP.SourceIP)
}
