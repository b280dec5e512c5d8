package lambdaapi

import (
	"context"
	"log"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/httpapi"
)

// HTTPHandler is op's handler as deployed: API Gateway's request id, and the principal the
// Lambda authorizer verified. Functions never verify tokens themselves: every route in
// template.yaml has the authorizer, which keeps the JWT stack out of their binaries.
func HTTPHandler(a *app.App, op httpapi.Op) http.Handler {
	return httpapi.New(a.Service, AuthorizerContext{}, httpapi.Options{Logger: a.Logger, RequestID: RequestID}).Handler(op)
}

// NewHandler is op's Lambda handler.
func NewHandler(a *app.App, op httpapi.Op) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return Handler(HTTPHandler(a, op))
}

// Serve runs op as this process's Lambda function. It refuses to start unless configured to sit
// behind the authorizer (AUTH_MODE=authorizer), the only way these functions authenticate.
func Serve(a *app.App, op httpapi.Op) {
	if !a.Config.TrustAuthorizer {
		log.Fatal("configuration error: AUTH_MODE must be authorizer: API functions run behind the Lambda authorizer")
	}
	lambda.Start(NewHandler(a, op))
}
