// Command worker is the Lambda function behind the revalidation queue: it validates each
// provider a message names, as POST validate does, and reports the messages to deliver again.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/validators"
)

func main() {
	cfg := config.MustFromEnv()
	ctx := context.Background()
	parts, err := validators.Parts(ctx, cfg)
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	a, err := app.Build(ctx, cfg, parts)
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambda.Start(revalidate.SQSHandler(revalidate.WorkerFor(a), a.Logger))
}
