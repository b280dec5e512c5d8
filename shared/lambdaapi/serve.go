package lambdaapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/httpapi"
)

// HTTPHandler is op's handler as deployed: API Gateway's request id, and the principal from the
// authorizer context or, without an authorizer, from the verified bearer token.
func HTTPHandler(a *app.App, op httpapi.Op) http.Handler {
	var authn httpapi.Authenticator = AuthorizerContext{}
	if a.Verifier != nil {
		authn = a.Verifier
	}
	return httpapi.New(a.Service, authn, httpapi.Options{Logger: a.Logger, RequestID: RequestID}).Handler(op)
}

// NewHandler is op's Lambda handler.
func NewHandler(a *app.App, op httpapi.Op) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return Handler(HTTPHandler(a, op))
}

// Serve runs op as this process's Lambda function.
func Serve(a *app.App, op httpapi.Op) {
	lambda.Start(NewHandler(a, op))
}
