// Command authorizer is the HTTP API's Lambda authorizer: it verifies bearer tokens and passes the
// principal to the operations in the authorizer context.
package main

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamtime/fleet-providers/shared/authorizer"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/logging"
)

func main() {
	cfg := config.MustFromEnv()
	a, err := authorizer.New(cfg, logging.New(os.Stderr, cfg.LogLevel))
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambda.Start(a.Handle)
}
