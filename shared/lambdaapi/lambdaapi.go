// Package lambdaapi runs the HTTP handlers as Lambda functions behind an API Gateway HTTP API
// (payload format 2.0) through aws-lambda-go-api-proxy.
package lambdaapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/streamtime/fleet-providers/shared/auth"
)

// Handler adapts h to the Lambda handler signature for HTTP API events.
func Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(h).ProxyWithContext
}

// RequestID returns API Gateway's request id, so logs and problem responses quote the id
// API Gateway's own access logs use.
func RequestID(r *http.Request) string {
	if c, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		return c.RequestID
	}
	return ""
}

// AuthorizerContext reads the principal the Lambda authorizer verified. The authorizer's cached
// answer is shared across routes, so the org check still happens per request in httpapi; a token
// the authorizer rejected arrives with no principal and is answered 401 here.
type AuthorizerContext struct{}

// Authenticate returns the principal from the request's authorizer context.
func (AuthorizerContext) Authenticate(r *http.Request) (auth.Principal, error) {
	c, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || c.Authorizer == nil || c.Authorizer.Lambda == nil {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	lc := c.Authorizer.Lambda
	org, _ := lc[auth.ContextOrg].(string)
	if org == "" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	sub, _ := lc[auth.ContextSubject].(string)
	return auth.Principal{Subject: sub, Org: org, Scopes: strings.Fields(fmt.Sprint(lc[auth.ContextScopes]))}, nil
}
